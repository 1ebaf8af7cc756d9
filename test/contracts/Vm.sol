// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title Vm
 * @notice The few Hardhat/Foundry cheatcodes Gopy's Solidity tests use. forge-std cannot be installed here
 *         (its npm namesake is an old unofficial copy Hardhat 3 cannot resolve), so they are declared
 *         directly against the cheatcode address.
 */
// solhint-disable-next-line interface-starts-with-i
interface Vm {
    /// @notice Discards the current fuzz input when `condition` is false.
    function assume(bool condition) external pure;
    /// @notice Makes the next call come from `sender`.
    function prank(address sender) external;
    /// @notice Sets block.timestamp.
    function warp(uint256 timestamp) external;
    /// @notice Expects the next call to revert with exactly `revertData`.
    function expectRevert(bytes calldata revertData) external;
}

/// @dev The cheatcode address, 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D.
Vm constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
