// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

// `m <= k` is the RFC's own wording of SUBPROOF.
/* solhint-disable gas-strict-inequalities */

/**
 * @title RFC9162Reference
 * @notice The straightforward, recursive definitions of RFC 9162 section 2.1 (MTH, PATH, PROOF/SUBPROOF)
 *         over an explicit list of leaf hashes, hashing with Solidity's `sha256` builtin. Slow and
 *         obviously right: the fuzz and invariant tests check contracts/lib/RFC9162.sol against it.
 */
library RFC9162Reference {
    /// @notice MTH(D[start : start + n]) (2.1.1), n >= 1.
    function mth(bytes32[] memory leaves, uint256 start, uint256 n) internal pure returns (bytes32) {
        if (n == 0) return sha256("");
        if (n == 1) return leaves[start];
        uint256 k = splitPoint(n);
        return node(mth(leaves, start, k), mth(leaves, start + k, n - k));
    }

    /// @notice PATH(m, D[start : start + n]) (2.1.3.1): the inclusion proof of leaf m of that range.
    function path(bytes32[] memory leaves, uint256 m, uint256 start, uint256 n) internal pure returns (bytes32[] memory) {
        if (n == 1) return new bytes32[](0);
        uint256 k = splitPoint(n);
        if (m < k) return append(path(leaves, m, start, k), mth(leaves, start + k, n - k));
        return append(path(leaves, m - k, start + k, n - k), mth(leaves, start, k));
    }

    /// @notice PROOF(m, D[0 : n]) (2.1.4.1): the consistency proof from size m to size n, 0 < m <= n.
    function proof(bytes32[] memory leaves, uint256 m, uint256 n) internal pure returns (bytes32[] memory) {
        return subproof(leaves, m, 0, n, true);
    }

    /// @notice SUBPROOF(m, D[start : start + n], b) (2.1.4.1).
    function subproof(bytes32[] memory leaves, uint256 m, uint256 start, uint256 n, bool b)
        internal
        pure
        returns (bytes32[] memory)
    {
        if (m == n) {
            if (b) return new bytes32[](0);
            bytes32[] memory one = new bytes32[](1);
            one[0] = mth(leaves, start, n);
            return one;
        }
        uint256 k = splitPoint(n);
        if (m <= k) return append(subproof(leaves, m, start, k, b), mth(leaves, start + k, n - k));
        return append(subproof(leaves, m - k, start + k, n - k, false), mth(leaves, start, k));
    }

    /// @notice The largest power of two smaller than n (n >= 2).
    function splitPoint(uint256 n) internal pure returns (uint256 k) {
        k = 1;
        while (k << 1 < n) k <<= 1;
    }

    /// @notice SHA-256(0x01 || left || right) with the builtin.
    function node(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// @notice `list` followed by `last`.
    function append(bytes32[] memory list, bytes32 last) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](list.length + 1);
        for (uint256 i = 0; i < list.length; ++i) out[i] = list[i];
        out[list.length] = last;
    }

    /// @notice n pseudo-random leaf hashes derived from `seed`.
    function leavesFrom(uint256 seed, uint256 n) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) leaves[i] = keccak256(abi.encode(seed, i));
    }
}
