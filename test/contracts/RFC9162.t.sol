// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {RFC9162} from "../../contracts/lib/RFC9162.sol";
import {RFC9162Reference as Ref} from "./RFC9162Reference.sol";

// Test names follow the runner's conventions (testFuzz_); messages say what broke.
/* solhint-disable func-name-mixedcase, gas-strict-inequalities, gas-small-strings */

/**
 * @title RFC9162Test
 * @notice Fuzzes contracts/lib/RFC9162.sol against the recursive RFC 9162 definitions (RFC9162Reference,
 *         which hashes with Solidity's builtin sha256): every proof the definitions produce verifies and
 *         recomputes the reference roots; every mutation of it is refused; garbage never reverts.
 */
contract RFC9162Test {
    error Mismatch(string what, uint256 a, uint256 b);

    uint256 private constant MAX_LEAVES = 70;

    /// @notice Leaf and node hashing equal the builtin sha256 over the RFC's prefixes.
    function testFuzz_hashes(bytes calldata entry, bytes32 left, bytes32 right) public pure {
        _check(RFC9162.hashLeaf(entry) == sha256(abi.encodePacked(bytes1(0x00), entry)), "leaf", 0, 0);
        _check(RFC9162.hashNode(left, right) == sha256(abi.encodePacked(bytes1(0x01), left, right)), "node", 0, 0);
        _check(RFC9162.EMPTY_ROOT == sha256(""), "empty", 0, 0);
    }

    /// @notice Every inclusion proof PATH(m, D[n]) verifies against MTH(D[n]); any mutation fails.
    /// hardhat-config: fuzz.runs = 300
    function testFuzz_inclusion(uint256 seed, uint256 sizeRaw, uint256 indexRaw, uint256 flip) public pure {
        uint256 size = 1 + (sizeRaw % MAX_LEAVES);
        uint256 index = indexRaw % size;
        bytes32[] memory leaves = Ref.leavesFrom(seed, size);
        bytes32 root = Ref.mth(leaves, 0, size);
        bytes32[] memory proof = Ref.path(leaves, index, 0, size);

        (bool ok, bytes32 computed) = RFC9162.rootFromInclusion(leaves[index], index, size, proof);
        _check(ok && computed == root, "inclusion root", index, size);
        _check(RFC9162.verifyInclusion(leaves[index], index, size, proof, root), "inclusion", index, size);
        _check(!RFC9162.verifyInclusion(leaves[index], size, size, proof, root), "index == size", index, size);

        // a single flipped bit in the leaf, the root or one proof element
        uint256 bit = flip % 256;
        _check(!RFC9162.verifyInclusion(_flip(leaves[index], bit), index, size, proof, root), "leaf bit", bit, 0);
        _check(!RFC9162.verifyInclusion(leaves[index], index, size, proof, _flip(root, bit)), "root bit", bit, 0);
        if (proof.length > 0) {
            uint256 e = (flip >> 8) % proof.length;
            proof[e] = _flip(proof[e], bit);
            _check(!RFC9162.verifyInclusion(leaves[index], index, size, proof, root), "proof bit", e, bit);
            proof[e] = _flip(proof[e], bit);
            // truncated
            _check(
                !RFC9162.verifyInclusion(leaves[index], index, size, _take(proof, proof.length - 1), root),
                "truncated",
                index,
                size
            );
        }
        // extended
        _check(
            !RFC9162.verifyInclusion(leaves[index], index, size, Ref.append(proof, bytes32(flip)), root),
            "extended",
            index,
            size
        );
        // another leaf position with the same proof
        if (size > 1) {
            uint256 other = (index + 1 + (flip % (size - 1))) % size;
            _check(!RFC9162.verifyInclusion(leaves[index], other, size, proof, root), "other index", other, index);
        }
    }

    /// @notice Every consistency proof PROOF(m, D[n]) verifies between the reference roots; any mutation fails.
    /// hardhat-config: fuzz.runs = 300
    function testFuzz_consistency(uint256 seed, uint256 size2Raw, uint256 size1Raw, uint256 flip) public pure {
        uint256 size2 = 1 + (size2Raw % MAX_LEAVES);
        uint256 size1 = 1 + (size1Raw % size2);
        bytes32[] memory leaves = Ref.leavesFrom(seed, size2);
        bytes32 root1 = Ref.mth(leaves, 0, size1);
        bytes32 root2 = Ref.mth(leaves, 0, size2);
        bytes32[] memory proof = Ref.proof(leaves, size1, size2);

        _check(RFC9162.verifyConsistency(size1, size2, proof, root1, root2), "consistency", size1, size2);
        if (size1 < size2) {
            (bool ok, bytes32 fr, bytes32 sr) = RFC9162.rootsFromConsistency(size1, size2, proof, root1);
            _check(ok && fr == root1 && sr == root2, "roots", size1, size2);
        }
        _check(!RFC9162.verifyConsistency(0, size2, proof, root1, root2), "from 0", 0, size2);
        _check(!RFC9162.verifyConsistency(size2 + 1, size2, proof, root1, root2), "size1 > size2", size1, size2);

        uint256 bit = flip % 256;
        _check(!RFC9162.verifyConsistency(size1, size2, proof, _flip(root1, bit), root2), "root1 bit", bit, 0);
        _check(!RFC9162.verifyConsistency(size1, size2, proof, root1, _flip(root2, bit)), "root2 bit", bit, 0);
        if (proof.length > 0) {
            uint256 e = (flip >> 8) % proof.length;
            proof[e] = _flip(proof[e], bit);
            _check(!RFC9162.verifyConsistency(size1, size2, proof, root1, root2), "proof bit", e, bit);
            proof[e] = _flip(proof[e], bit);
            _check(
                !RFC9162.verifyConsistency(size1, size2, _take(proof, proof.length - 1), root1, root2),
                "truncated",
                size1,
                size2
            );
        }
        _check(
            !RFC9162.verifyConsistency(size1, size2, Ref.append(proof, bytes32(flip)), root1, root2),
            "extended",
            size1,
            size2
        );
        _checkRewrite(leaves, size1, size2, root1, flip);
    }

    /// @dev A log that differs from the real one in one leaf below size1 cannot be shown consistent with it.
    function _checkRewrite(bytes32[] memory leaves, uint256 size1, uint256 size2, bytes32 root1, uint256 flip)
        private
        pure
    {
        uint256 changed = (flip >> 16) % size1;
        leaves[changed] = _flip(leaves[changed], flip % 256);
        bytes32[] memory forged = Ref.proof(leaves, size1, size2);
        bytes32 forgedRoot = Ref.mth(leaves, 0, size2);
        _check(!RFC9162.verifyConsistency(size1, size2, forged, root1, forgedRoot), "rewritten history", changed, size2);
    }

    /// @notice Arbitrary (mostly meaningless) inputs never revert and are refused unless they happen to fit.
    /// hardhat-config: fuzz.runs = 500
    function testFuzz_garbageNeverReverts(
        uint256 size1,
        uint256 size2,
        uint256 index,
        bytes32[] calldata proof,
        bytes32 a,
        bytes32 b
    ) public pure {
        RFC9162.verifyConsistency(size1, size2, proof, a, b);
        RFC9162.rootsFromConsistency(size1, size2, proof, a);
        RFC9162.verifyInclusion(a, index, size2, proof, b);
        RFC9162.rootFromInclusion(a, index, size2, proof);
        _check(!RFC9162.verifyConsistency(size1, size1, proof, a, bytes32(uint256(a) ^ 1)), "equal sizes", 0, 0);
        _check(
            RFC9162.verifyConsistency(size1, size1, new bytes32[](0), a, a) == (size1 != 0), "equal sizes", size1, 0
        );
    }

    /// @notice The sizes that matter in practice (up to 2^63) never overflow the verifier's arithmetic.
    function testFuzz_largeSizes(uint64 size1, uint64 size2, bytes32[] calldata proof, bytes32 a, bytes32 b)
        public
        pure
    {
        RFC9162.verifyConsistency(size1, size2, proof, a, b);
        RFC9162.verifyInclusion(a, size1, size2, proof, b);
        RFC9162.verifyConsistency(type(uint256).max, type(uint256).max, proof, a, b);
        RFC9162.verifyInclusion(a, type(uint256).max - 1, type(uint256).max, proof, b);
    }

    function _flip(bytes32 h, uint256 bit) private pure returns (bytes32) {
        return h ^ bytes32(uint256(1) << bit);
    }

    function _take(bytes32[] memory list, uint256 n) private pure returns (bytes32[] memory out) {
        out = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) out[i] = list[i];
    }

    function _check(bool condition, string memory what, uint256 a, uint256 b) private pure {
        if (!condition) revert Mismatch(what, a, b);
    }
}
