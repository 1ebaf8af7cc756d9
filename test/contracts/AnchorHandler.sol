// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ConsultationRegistry} from "../../contracts/ConsultationRegistry.sol";
import {RFC9162Reference as Ref} from "./RFC9162Reference.sol";

// `<=` / `>=` state the bounds as the tests mean them.
/* solhint-disable gas-strict-inequalities */

/**
 * @title AnchorHandler
 * @notice The invariant fuzzer's only target. It is the agency's operator and keeps the one honest log
 *         (a list of leaf hashes it appends to); each call either anchors a valid head of that log (with
 *         an arbitrary counted root), with a proof made by the recursive RFC 9162 definitions, or tries
 *         an invalid one (bit flips,
 *         truncations, extensions, a rewritten history, a smaller size, a root without proof) and
 *         records any that the registry accepted.
 */
contract AnchorHandler {
    uint256 private constant MAX_LEAVES = 48;

    // solhint-disable-next-line immutable-vars-naming
    ConsultationRegistry public immutable registry;
    // solhint-disable-next-line immutable-vars-naming
    uint256 public immutable id;

    bytes32[] public leaves;
    /// @notice The head the registry must hold: changed only after an accepted valid anchor.
    uint64 public ghostSize;
    bytes32 public ghostRoot;
    bytes32 public ghostCountedRoot;
    uint256 public validAnchors;
    uint256 public refusedAnchors;
    /// @notice Invalid heads the registry accepted; the invariants require zero.
    uint256 public invalidAccepted;
    /// @notice Valid heads the registry refused; the invariants require zero.
    uint256 public validRefused;
    /// @notice Calls after which the anchored size was smaller than before.
    uint256 public sizeDecreases;

    constructor(ConsultationRegistry registry_, uint256 id_) {
        registry = registry_;
        id = id_;
    }

    /// @notice Appends up to 7 leaves to the honest log (nothing on chain).
    function append(uint256 seed, uint8 count) external {
        for (uint256 i = 0; i < count % 8 && leaves.length < MAX_LEAVES; ++i) {
            leaves.push(keccak256(abi.encode(seed, leaves.length)));
        }
    }

    /// @notice Anchors a valid head of the honest log somewhere after the anchored one.
    function anchorValid(uint256 seed) external {
        uint256 n = leaves.length;
        if (n <= ghostSize) return;
        uint64 size = uint64(ghostSize + 1 + (seed % (n - ghostSize)));
        bytes32[] memory all = leaves;
        bytes32 root = Ref.mth(all, 0, size);
        bytes32[] memory proof = ghostSize == 0 ? new bytes32[](0) : Ref.proof(all, ghostSize, size);
        // any counted root: the registry stores it as given, with the head
        bytes32 counted = keccak256(abi.encode("counted", seed, size));
        uint64 before = _size();
        try registry.anchorLog(id, size, root, counted, proof) {
            ghostSize = size;
            ghostRoot = root;
            ghostCountedRoot = counted;
            ++validAnchors;
        } catch {
            ++validRefused;
        }
        if (_size() < before) ++sizeDecreases;
    }

    /// @notice Tries an invalid head; it must be refused.
    function anchorInvalid(uint256 seed, uint8 kind) external {
        if (ghostSize == 0 || leaves.length <= ghostSize) return;
        bytes32[] memory all = leaves;
        uint64 size = uint64(ghostSize + 1 + (seed % (all.length - ghostSize)));
        bytes32 root = Ref.mth(all, 0, size);
        bytes32[] memory proof = Ref.proof(all, ghostSize, size);
        uint256 bit = (seed >> 64) % 256;
        uint256 k = kind % 7;
        if (k == 0 && proof.length > 0) {
            uint256 e = (seed >> 128) % proof.length;
            proof[e] = proof[e] ^ bytes32(uint256(1) << bit);
        } else if (k == 1) {
            root = root ^ bytes32(uint256(1) << bit);
        } else if (k == 2 && proof.length > 0) {
            bytes32[] memory shorter = new bytes32[](proof.length - 1);
            for (uint256 i = 0; i < shorter.length; ++i) shorter[i] = proof[i];
            proof = shorter;
        } else if (k == 3) {
            proof = Ref.append(proof, keccak256(abi.encode(seed)));
        } else if (k == 4) {
            // rewrite one anchored leaf, then prove "consistency" of the forged log
            all[(seed >> 128) % ghostSize] ^= bytes32(uint256(1) << bit);
            root = Ref.mth(all, 0, size);
            proof = Ref.proof(all, ghostSize, size);
        } else if (k == 5) {
            size = uint64(seed % (ghostSize + 1)); // not larger than the anchored size
            root = Ref.mth(all, 0, size == 0 ? 1 : size);
            proof = new bytes32[](0);
        } else {
            proof = new bytes32[](0); // a new root with no proof at all
        }
        uint64 before = _size();
        try registry.anchorLog(id, size, root, keccak256(abi.encode("forged", seed)), proof) {
            ++invalidAccepted;
        } catch {
            ++refusedAnchors;
        }
        if (_size() < before) ++sizeDecreases;
    }

    /// @notice Number of leaves in the honest log.
    function leafCount() external view returns (uint256) {
        return leaves.length;
    }

    /// @notice The reference root of the honest log's first `size` leaves.
    function referenceRoot(uint64 size) external view returns (bytes32) {
        bytes32[] memory all = leaves;
        return Ref.mth(all, 0, size);
    }

    function _size() private view returns (uint64 size) {
        (size,,) = registry.logHead(id);
    }
}
