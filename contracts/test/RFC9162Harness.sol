// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {RFC9162} from "../lib/RFC9162.sol";

/**
 * @title RFC9162Harness
 * @notice Test-only contract exposing the RFC9162 library, so the TypeScript tests can run protocol/
 *         proofs and the published RFC 6962 vectors through the exact Solidity code the registry uses.
 *         Not deployed by the Ignition module.
 */
contract RFC9162Harness {
    /// @notice See RFC9162.hashLeaf.
    /// @param entry The entry's bytes.
    /// @return The leaf hash.
    function hashLeaf(bytes calldata entry) external pure returns (bytes32) {
        return RFC9162.hashLeaf(entry);
    }

    /// @notice See RFC9162.hashNode.
    /// @param left Left subtree hash.
    /// @param right Right subtree hash.
    /// @return The node hash.
    function hashNode(bytes32 left, bytes32 right) external pure returns (bytes32) {
        return RFC9162.hashNode(left, right);
    }

    /// @notice See RFC9162.rootFromInclusion.
    /// @param leafHash Leaf hash.
    /// @param leafIndex Leaf index.
    /// @param treeSize Tree size.
    /// @param proof Inclusion proof.
    /// @return ok Whether the proof has the right shape.
    /// @return root The recomputed root.
    function rootFromInclusion(bytes32 leafHash, uint256 leafIndex, uint256 treeSize, bytes32[] calldata proof)
        external
        pure
        returns (bool ok, bytes32 root)
    {
        return RFC9162.rootFromInclusion(leafHash, leafIndex, treeSize, proof);
    }

    /// @notice See RFC9162.verifyInclusion.
    /// @param leafHash Leaf hash.
    /// @param leafIndex Leaf index.
    /// @param treeSize Tree size.
    /// @param proof Inclusion proof.
    /// @param root Expected root.
    /// @return Whether the proof verifies.
    function verifyInclusion(
        bytes32 leafHash,
        uint256 leafIndex,
        uint256 treeSize,
        bytes32[] calldata proof,
        bytes32 root
    ) external pure returns (bool) {
        return RFC9162.verifyInclusion(leafHash, leafIndex, treeSize, proof, root);
    }

    /// @notice See RFC9162.rootsFromConsistency.
    /// @param size1 Older size.
    /// @param size2 Newer size.
    /// @param proof Consistency proof.
    /// @param root1 Older root.
    /// @return ok Whether the proof has the right shape.
    /// @return fr Recomputed older root.
    /// @return sr Recomputed newer root.
    function rootsFromConsistency(uint256 size1, uint256 size2, bytes32[] calldata proof, bytes32 root1)
        external
        pure
        returns (bool ok, bytes32 fr, bytes32 sr)
    {
        return RFC9162.rootsFromConsistency(size1, size2, proof, root1);
    }

    /// @notice See RFC9162.verifyConsistency.
    /// @param size1 Older size.
    /// @param size2 Newer size.
    /// @param proof Consistency proof.
    /// @param root1 Older root.
    /// @param root2 Newer root.
    /// @return Whether the proof verifies.
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32[] calldata proof,
        bytes32 root1,
        bytes32 root2
    ) external pure returns (bool) {
        return RFC9162.verifyConsistency(size1, size2, proof, root1, root2);
    }
}
