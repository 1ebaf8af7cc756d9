// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

// `<` / `>=` are kept as the RFC writes its steps.
/* solhint-disable gas-strict-inequalities */

/**
 * @title RFC9162
 * @notice Merkle tree hashing and proof verification of RFC 9162 section 2.1 (Certificate Transparency
 *         v2) with SHA-256, bit for bit the same as Gopy's protocol/ library:
 *         leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right),
 *         empty tree = SHA-256("").
 * @dev Every function is pure and never reverts on malformed input: a proof that does not verify
 *      yields `false`. Policy shared with protocol/ and the transparency-dev test vectors:
 *      a consistency proof from size 0 is rejected (nothing to be consistent with), and when both
 *      sizes are equal the proof must be empty and the roots equal.
 *
 *      Node hashes go straight to the SHA-256 precompile (address 0x02) from 65 bytes of scratch
 *      memory past the free memory pointer (`0x01 || left || right`), never allocated: a proof of n
 *      hashes costs n precompile calls and no memory growth (about 40% less gas per hash than
 *      `sha256(abi.encodePacked(...))`, which copies and allocates every time).
 */
library RFC9162 {
    /// @notice SHA-256 of the empty string: the root of the empty tree.
    bytes32 internal constant EMPTY_ROOT = 0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;

    /// @notice Leaf hash of an entry: SHA-256(0x00 || entry).
    /// @param entry The entry's bytes.
    /// @return The leaf hash.
    function hashLeaf(bytes memory entry) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), entry));
    }

    /// @notice Interior node hash: SHA-256(0x01 || left || right).
    /// @param left Hash of the left subtree.
    /// @param right Hash of the right subtree.
    /// @return The node hash.
    function hashNode(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        function(bytes32, bytes32) view returns (bytes32) impl = _nodeHash;
        function(bytes32, bytes32) pure returns (bytes32) asPure;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            asPure := impl // see _nodeHash: pure in fact, view only to the compiler
        }
        return asPure(left, right);
    }

    /**
     * @notice Root of a tree of `treeSize` leaves recomputed from a leaf and its inclusion proof
     *         (RFC 9162 section 2.1.3.2, steps 1 to 4).
     * @param leafHash Hash of the leaf (already SHA-256(0x00 || entry)).
     * @param leafIndex Zero-based index of the leaf.
     * @param treeSize Size of the tree the proof is for.
     * @param proof Audit path, bottom-up.
     * @return ok False when the proof cannot be for this index and size (index out of range, too
     *         long or too short); `root` is then meaningless.
     * @return root The recomputed root.
     */
    function rootFromInclusion(bytes32 leafHash, uint256 leafIndex, uint256 treeSize, bytes32[] memory proof)
        internal
        pure
        returns (bool ok, bytes32 root)
    {
        function(bytes32, uint256, uint256, bytes32[] memory) view returns (bool, bytes32) impl = _rootFromInclusion;
        function(bytes32, uint256, uint256, bytes32[] memory) pure returns (bool, bytes32) asPure;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            asPure := impl // see _nodeHash: pure in fact, view only to the compiler
        }
        return asPure(leafHash, leafIndex, treeSize, proof);
    }

    /// @dev rootFromInclusion's body (view only because _nodeHash is).
    function _rootFromInclusion(bytes32 leafHash, uint256 leafIndex, uint256 treeSize, bytes32[] memory proof)
        private
        view
        returns (bool ok, bytes32 root)
    {
        if (leafIndex >= treeSize) return (false, bytes32(0));
        uint256 fn = leafIndex;
        uint256 sn = treeSize - 1;
        root = leafHash;
        uint256 length = proof.length;
        for (uint256 i = 0; i < length; ++i) {
            if (sn == 0) return (false, bytes32(0));
            bytes32 p = proof[i];
            if (fn & 1 == 1 || fn == sn) {
                root = _nodeHash(p, root);
                if (fn != 0) {
                    while (fn & 1 == 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                root = _nodeHash(root, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        ok = sn == 0;
    }

    /**
     * @notice Verifies an RFC 9162 inclusion proof (section 2.1.3.2).
     * @param leafHash Hash of the leaf.
     * @param leafIndex Zero-based index of the leaf.
     * @param treeSize Size of the tree.
     * @param proof Audit path, bottom-up.
     * @param root Expected root of the tree of `treeSize` leaves.
     * @return True when the proof shows the leaf at `leafIndex` in the tree with root `root`.
     */
    function verifyInclusion(
        bytes32 leafHash,
        uint256 leafIndex,
        uint256 treeSize,
        bytes32[] memory proof,
        bytes32 root
    ) internal pure returns (bool) {
        (bool ok, bytes32 computed) = rootFromInclusion(leafHash, leafIndex, treeSize, proof);
        return ok && computed == root;
    }

    /**
     * @notice Both roots recomputed from a consistency proof (RFC 9162 section 2.1.4.2, steps 2 to 6).
     * @dev Requires 0 < size1 < size2; returns ok = false otherwise, and for an empty, too short or too
     *      long proof.
     * @param size1 Size of the older tree.
     * @param size2 Size of the newer tree.
     * @param proof Consistency proof from size1 to size2.
     * @param root1 Root of the older tree (used as the first path element when size1 is a power of 2).
     * @return ok False when the proof has the wrong shape for these sizes.
     * @return fr Recomputed root of the older tree.
     * @return sr Recomputed root of the newer tree.
     */
    function rootsFromConsistency(uint256 size1, uint256 size2, bytes32[] memory proof, bytes32 root1)
        internal
        pure
        returns (bool ok, bytes32 fr, bytes32 sr)
    {
        function(uint256, uint256, bytes32[] memory, bytes32) view returns (bool, bytes32, bytes32) impl =
            _rootsFromConsistency;
        function(uint256, uint256, bytes32[] memory, bytes32) pure returns (bool, bytes32, bytes32) asPure;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            asPure := impl // see _nodeHash: pure in fact, view only to the compiler
        }
        return asPure(size1, size2, proof, root1);
    }

    /// @dev rootsFromConsistency's body (view only because _nodeHash is).
    function _rootsFromConsistency(uint256 size1, uint256 size2, bytes32[] memory proof, bytes32 root1)
        private
        view
        returns (bool ok, bytes32 fr, bytes32 sr)
    {
        uint256 length = proof.length;
        if (size1 == 0 || size1 >= size2 || length == 0) return (false, bytes32(0), bytes32(0));
        uint256 i = 0;
        if (size1 & (size1 - 1) == 0) {
            // size1 is a power of 2: the path starts with root1 itself.
            fr = root1;
        } else {
            fr = proof[0];
            i = 1;
        }
        uint256 fn = size1 - 1;
        uint256 sn = size2 - 1;
        while (fn & 1 == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        return _consistencySteps(proof, i, fn, sn, fr);
    }

    /**
     * @dev Step 6 of 2.1.4.2 from proof[i] on, then the size check of step 7: the on-chain hot path
     *      (every anchorLog runs it), in Yul. Same statements as the inclusion loop above, on the proof
     *      in memory; both hashes of a step share the 65-byte scratch input (0x01 || left || right)
     *      that _nodeHash uses.
     */
    function _consistencySteps(bytes32[] memory proof, uint256 i, uint256 fn, uint256 sn, bytes32 fr)
        private
        view
        returns (bool, bytes32, bytes32)
    {
        bytes32 sr = fr;
        uint256 length = proof.length;
        bool failed;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            function node(input, left, right) -> digest {
                mstore(add(input, 1), left)
                mstore(add(input, 33), right)
                if iszero(staticcall(gas(), 0x02, input, 65, 0x00, 0x20)) { revert(0, 0) }
                digest := mload(0x00)
            }
            let input := mload(0x40)
            mstore8(input, 0x01)
            let end := add(add(proof, 0x20), shl(5, length))
            for { let p := add(add(proof, 0x20), shl(5, i)) } lt(p, end) { p := add(p, 0x20) } {
                if iszero(sn) {
                    failed := 1 // proof longer than the path
                    break
                }
                let c := mload(p)
                switch or(and(fn, 1), eq(fn, sn))
                case 0 { sr := node(input, sr, c) }
                default {
                    fr := node(input, c, fr)
                    sr := node(input, c, sr)
                    if fn {
                        for {} iszero(and(fn, 1)) {} {
                            fn := shr(1, fn)
                            sn := shr(1, sn)
                        }
                    }
                }
                fn := shr(1, fn)
                sn := shr(1, sn)
            }
        }
        if (failed || sn != 0) return (false, bytes32(0), bytes32(0));
        return (true, fr, sr);
    }

    /**
     * @notice Verifies an RFC 9162 consistency proof (section 2.1.4.2) between two tree heads.
     * @param size1 Size of the older tree (0 is refused: a proof from the empty tree proves nothing).
     * @param size2 Size of the newer tree.
     * @param proof Consistency proof; must be empty when size1 == size2.
     * @param root1 Root of the older tree.
     * @param root2 Root of the newer tree.
     * @return True when the tree of size2 with root root2 extends the tree of size1 with root root1.
     */
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32[] memory proof,
        bytes32 root1,
        bytes32 root2
    ) internal pure returns (bool) {
        if (size1 == 0 || size1 > size2) return false;
        if (size1 == size2) return proof.length == 0 && root1 == root2;
        (bool ok, bytes32 fr, bytes32 sr) = rootsFromConsistency(size1, size2, proof, root1);
        return ok && fr == root1 && sr == root2;
    }

    /**
     * @dev SHA-256(0x01 || left || right) through the precompile at 0x02. The 65 input bytes are
     *      written just past the free memory pointer (scratch, never allocated) and the digest comes
     *      back in the scratch word at 0x00.
     *
     *      Why `view`, and the casts to `pure` above: a staticcall to the SHA-256 precompile reads no
     *      state (which is why Solidity's own `sha256` is pure), but the compiler cannot know that of
     *      inline assembly and would make every caller `view`. The public functions re-type a function
     *      pointer once per call (`asPure := impl`); nothing else changes.
     */
    function _nodeHash(bytes32 left, bytes32 right) private view returns (bytes32 digest) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let input := mload(0x40)
            mstore8(input, 0x01)
            mstore(add(input, 1), left)
            mstore(add(input, 33), right)
            if iszero(staticcall(gas(), 0x02, input, 65, 0x00, 0x20)) { revert(0, 0) }
            digest := mload(0x00)
        }
    }
}
