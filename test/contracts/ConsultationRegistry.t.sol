// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ConsultationRegistry} from "../../contracts/ConsultationRegistry.sol";
import {AnchorHandler} from "./AnchorHandler.sol";
import {VM} from "./Vm.sol";

// Test names follow the runner's conventions (test_, testFuzz_, invariant_); messages say what broke.
/* solhint-disable func-name-mixedcase, gas-strict-inequalities, gas-small-strings */

/**
 * @title ConsultationRegistryTest
 * @notice Unit tests through cheatcodes, and the append-only invariants: the anchored size never
 *         decreases, and the anchored root changes only through a valid consistency proof (it is always
 *         the reference root of the honest log at the anchored size, and no invalid head was accepted).
 */
contract ConsultationRegistryTest {
    error Violated(string what, uint256 value);

    ConsultationRegistry private registry;
    AnchorHandler private handler;
    uint256 private id;
    address private constant STRANGER = address(0xBEEF);

    /// @notice Deploys the registry (this contract is admin and agency) and the handler (its operator).
    function setUp() public {
        registry = new ConsultationRegistry(1 days, address(this));
        registry.grantRole(registry.AGENCY_ROLE(), address(this));
        id = registry.openConsultation(
            address(this), keccak256("draft"), "ipfs://draft", uint64(block.timestamp), uint64(block.timestamp + 30 days)
        );
        handler = new AnchorHandler(registry, id);
        registry.setOperator(address(handler), true);
    }

    /// @notice Only the handler is fuzzed: random calls go through its valid/invalid anchoring paths.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice The anchored size never decreases.
    /// hardhat-config: invariant.runs = 24
    /// hardhat-config: invariant.depth = 40
    function invariant_sizeNeverDecreases() public view {
        (uint64 size,,) = registry.logHead(id);
        _check(handler.sizeDecreases() == 0, "size decreased", handler.sizeDecreases());
        _check(size == handler.ghostSize(), "size differs from the last valid anchor", size);
    }

    /// @notice The root only changes through a valid consistency proof.
    /// hardhat-config: invariant.runs = 24
    /// hardhat-config: invariant.depth = 40
    function invariant_rootOnlyThroughValidProofs() public view {
        (uint64 size, bytes32 root,) = registry.logHead(id);
        _check(handler.invalidAccepted() == 0, "invalid head accepted", handler.invalidAccepted());
        _check(handler.validRefused() == 0, "valid head refused", handler.validRefused());
        _check(root == handler.ghostRoot(), "root differs from the last valid anchor", size);
        _check(
            registry.countedRoot(id) == handler.ghostCountedRoot(), "counted root differs from the last valid anchor", size
        );
        if (size > 0) _check(root == handler.referenceRoot(size), "root is not the honest log's", size);
    }

    /// @notice A stranger cannot anchor; the error names caller and agency.
    function test_strangerCannotAnchor() public {
        VM.prank(STRANGER);
        VM.expectRevert(
            abi.encodeWithSelector(ConsultationRegistry.NotAgencyOrOperator.selector, STRANGER, address(this))
        );
        registry.anchorLog(id, 1, keccak256("root"), keccak256("counted"), new bytes32[](0));
    }

    /// @notice The tally needs closesAt, then freezes the log.
    function test_tallyAfterCloseFreezesLog() public {
        registry.anchorLog(id, 1, keccak256("leaf"), keccak256("counted"), new bytes32[](0));
        VM.expectRevert(
            abi.encodeWithSelector(
                ConsultationRegistry.ConsultationNotClosed.selector, id, uint64(block.timestamp + 30 days)
            )
        );
        registry.publishTally(id, keccak256("tally"), "ipfs://tally");
        VM.warp(block.timestamp + 30 days);
        registry.publishTally(id, keccak256("tally"), "ipfs://tally");
        VM.expectRevert(abi.encodeWithSelector(ConsultationRegistry.TallyAlreadyPublished.selector, id));
        registry.anchorLog(id, 2, keccak256("root"), keccak256("counted"), new bytes32[](0));
    }

    /// @notice Any first head of any size is accepted with an empty proof; a second equal size is not.
    function testFuzz_firstHead(uint64 size, bytes32 root, bytes32 counted) public {
        VM.assume(size > 0 && size <= registry.MAX_TREE_SIZE());
        registry.anchorLog(id, size, root, counted, new bytes32[](0));
        (uint64 anchored, bytes32 anchoredRoot, uint64 at) = registry.logHead(id);
        _check(anchored == size && anchoredRoot == root && at == block.timestamp, "head", size);
        _check(registry.countedRoot(id) == counted, "counted root", size);
        VM.expectRevert(
            abi.encodeWithSelector(ConsultationRegistry.TreeSizeNotIncreasing.selector, id, size, size)
        );
        registry.anchorLog(id, size, root, counted, new bytes32[](0));
    }

    function _check(bool condition, string memory what, uint256 value) private pure {
        if (!condition) revert Violated(what, value);
    }
}
