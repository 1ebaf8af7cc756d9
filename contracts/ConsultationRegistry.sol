// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {RFC9162} from "./lib/RFC9162.sol";
import {ReceiptKeys} from "./ReceiptKeys.sol";

// Event fields stay unindexed where filtering by them makes no sense (sizes, flags, timestamps): indexing
// would cost gas for nothing. `<=` / `>=` state the rules as written in the specification.
/* solhint-disable gas-indexed-events, gas-strict-inequalities */

/**
 * @title ConsultationRegistry
 * @notice Public record of Gopy consultations: the draft put to the public (hash, URI, version), the
 *         head of each consultation's append-only opinion log with the root of its counted map (which
 *         opinion of each author on each section counts), the published tally, the agency's response to
 *         the opinions (versioned, after the tally), and the keys that sign receipts (ReceiptKeys).
 *
 *         A new log head is accepted only with an RFC 9162 consistency proof from the head already
 *         stored, checked here at write time with the SHA-256 precompile: neither the agency nor the
 *         service operator can rewrite a log once a head covering it has been anchored. Publishing the
 *         tally freezes the log at its anchored head.
 *
 * @dev NOT UPGRADEABLE, on purpose: an anchor that its admin could replace anchors nothing. A proxy
 *      would let whoever holds the upgrade key swap the code and rewrite every stored head; without one,
 *      the rules below are the rules forever. The admin (OpenZeppelin AccessControlDefaultAdminRules:
 *      one admin, two-step transfer behind a delay) only grants and revokes AGENCY_ROLE; it can touch no
 *      consultation, head or tally.
 *
 *      Roles: an agency (AGENCY_ROLE) opens consultations in its own name and authorizes operator
 *      addresses (its service's hot keys, at most MAX_OPERATORS each). An operator is bound to exactly
 *      one agency and acts for it only; a revoked operator can do nothing. Revoking (or renouncing) an
 *      agency's role unbinds all its operators at once, so an operator binding always belongs to a
 *      current agency and an operator's call needs no separate role check. Receipt-signing keys are
 *      added and retired by the admin or any operator (the service that signs receipts).
 *
 *      The counted root is the root of the consultation's counted map (docs/PROTOCOL.md): stored and
 *      emitted with each head, not checked here (the chain cannot recompute the map; every auditor
 *      does, from the log, and fails on an anchored counted root that disagrees).
 *
 *      Storage: the record's first slot holds everything anchorLog reads besides the log root (agency,
 *      tree size, anchoring time, tally flag), so an anchor reads three slots (record head, log root,
 *      and the caller's operator binding or, for the agency itself, its role) and writes three (record
 *      head, log root, counted root: two full 32-byte hashes cannot share a slot, and the counted root is
 *      written without being read).
 */
contract ConsultationRegistry is AccessControlDefaultAdminRules, ReceiptKeys {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Role of agencies, granted and revoked by the admin.
    bytes32 public constant AGENCY_ROLE = keccak256("AGENCY_ROLE");

    /**
     * @dev One consultation. Slot 0 is the hot slot (read and written by every anchorLog):
     *      agency (160 bits) | treeSize (48) | anchoredAt (40) | tallyPublished (8) = 256 bits.
     *      treeSize is bounded by 2^48 - 1 leaves (2.8e14, far beyond any consultation) and anchoredAt,
     *      in seconds, by 2^40 - 1 (year 36812); the external interface uses uint64 for both.
     */
    struct Record {
        // slot 0
        address agency;
        uint48 treeSize;
        uint40 anchoredAt;
        bool tallyPublished;
        // slot 1
        bytes32 rootHash;
        // slot 2
        bytes32 countedRoot;
        // slot 3
        uint64 opensAt;
        uint64 closesAt;
        uint32 draftVersion;
        uint32 responseVersion;
        // slot 4..8
        bytes32 draftHash;
        bytes32 tallyHash;
        string draftURI;
        string tallyURI;
        bytes32 responseHash;
    }

    /// @notice The whole public record of a consultation, as returned by `consultation(id)`.
    /// @dev Returned in memory only: field order follows the public interface, not storage packing.
    // solhint-disable-next-line gas-struct-packing
    struct ConsultationView {
        address agency;
        bytes32 draftHash;
        string draftURI;
        uint32 draftVersion;
        uint64 opensAt;
        uint64 closesAt;
        uint64 treeSize;
        bytes32 rootHash;
        bytes32 countedRoot;
        uint64 anchoredAt;
        bytes32 tallyHash;
        string tallyURI;
    }

    /// @notice Largest tree size the registry stores (2^48 - 1 leaves).
    uint64 public constant MAX_TREE_SIZE = type(uint48).max;

    /// @notice Number of consultations opened so far; ids run from 1 to this number.
    uint256 public consultationCount;

    /// @notice Most operators one agency may have (bounds the cost of revoking the agency).
    uint256 public constant MAX_OPERATORS = 32;

    /// @notice The agency an operator acts for (zero when the address is no operator).
    mapping(address operator => address agency) public operatorAgency;

    mapping(uint256 id => Record) private _records;

    mapping(address agency => EnumerableSet.AddressSet) private _operators;

    /// @notice An agency authorized (`allowed` = true) or revoked an operator address.
    event OperatorSet(address indexed agency, address indexed operator, bool allowed);
    /// @notice A consultation was opened; its opening draft is version 1.
    event ConsultationOpened(
        uint256 indexed id,
        address indexed agency,
        bytes32 draftHash,
        string draftURI,
        uint64 opensAt,
        uint64 closesAt
    );
    /// @notice The draft of a consultation was revised to `version`.
    event DraftRevised(uint256 indexed id, uint32 version, bytes32 draftHash, string draftURI);
    /// @notice A new head of the consultation's opinion log was anchored, with its counted map's root.
    event LogAnchored(uint256 indexed id, uint64 treeSize, bytes32 rootHash, bytes32 countedRoot);
    /// @notice The tally was published; the log is frozen at the head (and counted root) given here.
    event TallyPublished(
        uint256 indexed id, uint64 treeSize, bytes32 rootHash, bytes32 countedRoot, bytes32 tallyHash, string tallyURI
    );
    /// @notice The agency published version `version` of its response to the opinions; it supersedes earlier ones.
    event ResponsePublished(uint256 indexed id, uint32 version, bytes32 responseHash, string responseURI);

    /// @notice `account` does not hold AGENCY_ROLE.
    error NotAnAgency(address account);
    /// @notice `caller` is neither `agency` nor an operator of `agency`.
    error NotAgencyOrOperator(address caller, address agency);
    /// @notice The zero address was given where an account is required.
    error ZeroAddress();
    /// @notice `operator` is already bound to another agency, `agency`.
    error OperatorOfAnotherAgency(address operator, address agency);
    /// @notice `operator` is not an operator of the calling agency.
    error NotYourOperator(address operator);
    /// @notice `account` holds AGENCY_ROLE and so cannot be an operator (or the reverse).
    error AgencyOperatorConflict(address account);
    /// @notice The agency already has MAX_OPERATORS operators.
    error TooManyOperators(address agency, uint256 max);
    /// @notice A zero hash was given where a SHA-256 digest is required.
    error ZeroHash();
    /// @notice opensAt must be before closesAt, and closesAt in the future.
    error InvalidSchedule(uint64 opensAt, uint64 closesAt, uint256 blockTime);
    /// @notice No consultation has this id.
    error UnknownConsultation(uint256 id);
    /// @notice The consultation closed at `closesAt`: its draft can no longer change.
    error ConsultationClosed(uint256 id, uint64 closesAt);
    /// @notice The consultation closes at `closesAt`: no tally before then.
    error ConsultationNotClosed(uint256 id, uint64 closesAt);
    /// @notice The tally is published; the log is frozen.
    error TallyAlreadyPublished(uint256 id);
    /// @notice The tally is not published yet: there is nothing to respond to.
    error TallyNotPublished(uint256 id);
    /// @notice A new head must be larger than the anchored one.
    error TreeSizeNotIncreasing(uint256 id, uint64 anchoredSize, uint64 treeSize);
    /// @notice The tree size exceeds MAX_TREE_SIZE.
    error TreeSizeTooLarge(uint64 treeSize);
    /// @notice The consistency proof from the anchored head to the new one does not verify.
    error InvalidConsistencyProof(uint256 id, uint64 anchoredSize, uint64 treeSize);

    /**
     * @notice Deploys the registry.
     * @param adminDelay Delay, in seconds, of a transfer of the admin role (two steps: begin, accept).
     * @param admin The first admin (grants and revokes AGENCY_ROLE).
     */
    constructor(uint48 adminDelay, address admin) AccessControlDefaultAdminRules(adminDelay, admin) {}

    // ------------------------------------------------------------------------------------------------
    // Operators
    // ------------------------------------------------------------------------------------------------

    /**
     * @notice The calling agency authorizes (`allowed` = true) or revokes an operator address.
     * @dev An operator is bound to one agency: authorizing an operator of another agency reverts, as
     *      does revoking an address that is not the caller's operator. An agency cannot be an operator,
     *      and has at most MAX_OPERATORS. Authorizing an existing operator again changes nothing.
     * @param operator The operator address (the agency's service hot key).
     * @param allowed True to authorize, false to revoke.
     */
    function setOperator(address operator, bool allowed) external {
        if (!hasRole(AGENCY_ROLE, msg.sender)) revert NotAnAgency(msg.sender);
        if (operator == address(0)) revert ZeroAddress();
        address current = operatorAgency[operator];
        if (allowed) {
            if (current != address(0) && current != msg.sender) revert OperatorOfAnotherAgency(operator, current);
            if (hasRole(AGENCY_ROLE, operator)) revert AgencyOperatorConflict(operator);
            if (current == address(0)) {
                if (_operators[msg.sender].length() >= MAX_OPERATORS) revert TooManyOperators(msg.sender, MAX_OPERATORS);
                _operators[msg.sender].add(operator);
                operatorAgency[operator] = msg.sender;
            }
        } else {
            if (current != msg.sender) revert NotYourOperator(operator);
            _operators[msg.sender].remove(operator);
            delete operatorAgency[operator];
        }
        emit OperatorSet(msg.sender, operator, allowed);
    }

    // ------------------------------------------------------------------------------------------------
    // Consultations
    // ------------------------------------------------------------------------------------------------

    /**
     * @notice Opens a consultation for `agency` on a draft (version 1).
     * @dev Caller: the agency or one of its operators. Requires draftHash != 0, opensAt < closesAt and
     *      closesAt after the current block.
     * @param agency The agency in whose name the consultation runs (holds AGENCY_ROLE).
     * @param draftHash SHA-256 of the canonical draft (protocol/ draftHash).
     * @param draftURI Where the draft can be read.
     * @param opensAt When opinions start being accepted (unix seconds).
     * @param closesAt When the consultation closes (unix seconds).
     * @return id The new consultation's id (ids count from 1).
     */
    function openConsultation(
        address agency,
        bytes32 draftHash,
        string calldata draftURI,
        uint64 opensAt,
        uint64 closesAt
    ) external returns (uint256 id) {
        if (agency == address(0)) revert ZeroAddress();
        _authorize(agency);
        if (draftHash == bytes32(0)) revert ZeroHash();
        if (opensAt >= closesAt || closesAt <= block.timestamp) {
            revert InvalidSchedule(opensAt, closesAt, block.timestamp);
        }
        id = ++consultationCount;
        Record storage r = _records[id];
        r.agency = agency;
        r.opensAt = opensAt;
        r.closesAt = closesAt;
        r.draftVersion = 1;
        r.draftHash = draftHash;
        r.draftURI = draftURI;
        emit ConsultationOpened(id, agency, draftHash, draftURI, opensAt, closesAt);
    }

    /**
     * @notice Revises the draft of an open consultation (allowed until closesAt).
     * @dev Caller: the consultation's agency or one of its operators.
     * @param id The consultation.
     * @param draftHash SHA-256 of the revised canonical draft.
     * @param draftURI Where the revised draft can be read.
     * @return version The new version number (the opening draft is version 1).
     */
    function reviseDraft(uint256 id, bytes32 draftHash, string calldata draftURI) external returns (uint32 version) {
        Record storage r = _records[id];
        _authorize(_agencyOf(r, id));
        if (draftHash == bytes32(0)) revert ZeroHash();
        uint64 closesAt = r.closesAt;
        if (block.timestamp >= closesAt) revert ConsultationClosed(id, closesAt);
        version = r.draftVersion + 1;
        r.draftVersion = version;
        r.draftHash = draftHash;
        r.draftURI = draftURI;
        emit DraftRevised(id, version, draftHash, draftURI);
    }

    /**
     * @notice Anchors a new head of the consultation's opinion log, with the root of its counted map.
     * @dev Caller: the consultation's agency or one of its operators. From the empty log the proof must
     *      be empty; otherwise it must be the RFC 9162 consistency proof from the anchored head to
     *      (treeSize, rootHash), verified here. The counted root is stored as given (zero is the empty
     *      map's root); auditors recompute it from the log. Refused once the tally is published.
     * @param id The consultation.
     * @param treeSize Number of leaves of the new head; must exceed the anchored size.
     * @param rootHash RFC 9162 root of the first treeSize leaves.
     * @param countedRoot Root of the counted map of the first treeSize leaves (docs/PROTOCOL.md).
     * @param consistencyProof RFC 9162 consistency proof from the anchored head.
     */
    function anchorLog(
        uint256 id,
        uint64 treeSize,
        bytes32 rootHash,
        bytes32 countedRoot,
        bytes32[] calldata consistencyProof
    ) external {
        Record storage r = _records[id];
        // One SLOAD for the hot slot; the fields are unpacked from it by the optimizer.
        address agency = r.agency;
        uint64 anchoredSize = r.treeSize;
        bool published = r.tallyPublished;
        if (agency == address(0)) revert UnknownConsultation(id);
        _authorize(agency);
        if (published) revert TallyAlreadyPublished(id);
        if (treeSize <= anchoredSize) revert TreeSizeNotIncreasing(id, anchoredSize, treeSize);
        if (treeSize > MAX_TREE_SIZE) revert TreeSizeTooLarge(treeSize);
        if (anchoredSize == 0) {
            if (consistencyProof.length != 0) revert InvalidConsistencyProof(id, anchoredSize, treeSize);
        } else if (!RFC9162.verifyConsistency(anchoredSize, treeSize, consistencyProof, r.rootHash, rootHash)) {
            revert InvalidConsistencyProof(id, anchoredSize, treeSize);
        }
        r.treeSize = uint48(treeSize);
        r.anchoredAt = uint40(block.timestamp);
        r.rootHash = rootHash;
        r.countedRoot = countedRoot;
        emit LogAnchored(id, treeSize, rootHash, countedRoot);
    }

    /**
     * @notice Publishes the tally, once, after closesAt; freezes the log at its anchored head.
     * @dev Caller: the consultation's agency or one of its operators. The tally covers the anchored head
     *      (repeated in the event), so anyone can recompute it from the log's export.
     * @param id The consultation.
     * @param tallyHash SHA-256 of the canonical tally document (protocol/ tallyHash).
     * @param tallyURI Where the tally document can be read.
     */
    function publishTally(uint256 id, bytes32 tallyHash, string calldata tallyURI) external {
        Record storage r = _records[id];
        _authorize(_agencyOf(r, id));
        if (tallyHash == bytes32(0)) revert ZeroHash();
        uint64 closesAt = r.closesAt;
        if (block.timestamp < closesAt) revert ConsultationNotClosed(id, closesAt);
        if (r.tallyPublished) revert TallyAlreadyPublished(id);
        r.tallyPublished = true;
        r.tallyHash = tallyHash;
        r.tallyURI = tallyURI;
        emit TallyPublished(id, r.treeSize, r.rootHash, r.countedRoot, tallyHash, tallyURI);
    }

    /**
     * @notice Publishes the agency's response to the opinions (its answer, article by article), after the
     *         tally. Each call publishes the next version (1, 2, ...), which supersedes the previous one;
     *         every version stays in the event history.
     * @dev Caller: the consultation's agency or one of its operators. Only the latest hash is stored (one
     *      slot, plus the version in the record's slot 3); the URI is in the event only.
     * @param id The consultation.
     * @param responseHash SHA-256 of the canonical response document (protocol/ responseHash).
     * @param responseURI Where the response document can be read.
     * @return version The version just published (the first is 1).
     */
    function publishResponse(uint256 id, bytes32 responseHash, string calldata responseURI)
        external
        returns (uint32 version)
    {
        Record storage r = _records[id];
        _authorize(_agencyOf(r, id));
        if (responseHash == bytes32(0)) revert ZeroHash();
        if (!r.tallyPublished) revert TallyNotPublished(id);
        version = r.responseVersion + 1;
        r.responseVersion = version;
        r.responseHash = responseHash;
        emit ResponsePublished(id, version, responseHash, responseURI);
    }

    // ------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------

    /**
     * @notice The latest response of a consultation (zero hash and version 0 before the first).
     * @param id The consultation.
     * @return responseHash SHA-256 of the latest canonical response document.
     * @return version Its version (the number of responses published so far).
     */
    function response(uint256 id) external view returns (bytes32 responseHash, uint32 version) {
        Record storage r = _records[id];
        _agencyOf(r, id);
        return (r.responseHash, r.responseVersion);
    }

    /**
     * @notice The anchored head of a consultation's log (0, 0, 0 before the first anchor).
     * @param id The consultation.
     * @return treeSize Number of leaves.
     * @return rootHash RFC 9162 root.
     * @return anchoredAt Block time of the anchor (unix seconds).
     */
    function logHead(uint256 id) external view returns (uint64 treeSize, bytes32 rootHash, uint64 anchoredAt) {
        Record storage r = _records[id];
        _agencyOf(r, id);
        return (r.treeSize, r.rootHash, r.anchoredAt);
    }

    /**
     * @notice The counted map's root anchored with the latest head (zero before the first anchor, and for
     *         a head whose map is empty).
     * @param id The consultation.
     * @return The counted root of the anchored head.
     */
    function countedRoot(uint256 id) external view returns (bytes32) {
        Record storage r = _records[id];
        _agencyOf(r, id);
        return r.countedRoot;
    }

    /**
     * @notice The whole public record of a consultation.
     * @param id The consultation.
     * @return The record (tallyHash is zero and tallyURI empty until the tally is published).
     */
    function consultation(uint256 id) external view returns (ConsultationView memory) {
        Record storage r = _records[id];
        return ConsultationView({
            agency: _agencyOf(r, id),
            draftHash: r.draftHash,
            draftURI: r.draftURI,
            draftVersion: r.draftVersion,
            opensAt: r.opensAt,
            closesAt: r.closesAt,
            treeSize: r.treeSize,
            rootHash: r.rootHash,
            countedRoot: r.countedRoot,
            anchoredAt: r.anchoredAt,
            tallyHash: r.tallyHash,
            tallyURI: r.tallyURI
        });
    }

    /**
     * @notice The operators an agency has authorized.
     * @param agency The agency.
     * @return The operator addresses, in no particular order.
     */
    function operatorsOf(address agency) external view returns (address[] memory) {
        return _operators[agency].values();
    }

    /**
     * @notice Verifies an RFC 9162 inclusion proof against the consultation's anchored head.
     * @param id The consultation.
     * @param leafHash Hash of the leaf, SHA-256(0x00 || entry bytes).
     * @param leafIndex Zero-based index of the leaf.
     * @param proof Inclusion proof for the anchored tree size.
     * @return True when the leaf is at leafIndex in the anchored tree (false for the empty log).
     */
    function verifyInclusion(uint256 id, bytes32 leafHash, uint64 leafIndex, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        Record storage r = _records[id];
        _agencyOf(r, id);
        return RFC9162.verifyInclusion(leafHash, leafIndex, r.treeSize, proof, r.rootHash);
    }

    // ------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------

    /// @dev The admin and every operator (the service's hot keys: the service signs receipts) manage receipt keys.
    function _isReceiptKeyManager(address account) internal view override returns (bool) {
        return operatorAgency[account] != address(0) || hasRole(DEFAULT_ADMIN_ROLE, account);
    }

    /// @dev An agency cannot also be an operator: granting AGENCY_ROLE to an operator is refused.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == AGENCY_ROLE && operatorAgency[account] != address(0)) revert AgencyOperatorConflict(account);
        return super._grantRole(role, account);
    }

    /// @dev Revoking (or renouncing) AGENCY_ROLE unbinds all the agency's operators.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == AGENCY_ROLE) {
            EnumerableSet.AddressSet storage operators = _operators[account];
            for (uint256 i = operators.length(); i > 0; --i) {
                address operator = operators.at(i - 1);
                operators.remove(operator);
                delete operatorAgency[operator];
                emit OperatorSet(account, operator, false);
            }
        }
    }

    /**
     * @dev Reverts unless the caller is `agency` holding AGENCY_ROLE, or an operator bound to `agency`.
     *      An operator binding exists only while its agency holds the role (_revokeRole removes them),
     *      so an operator's call costs one slot read, the binding, and the agency's own call one, the role.
     */
    function _authorize(address agency) private view {
        if (msg.sender == agency) {
            if (!hasRole(AGENCY_ROLE, agency)) revert NotAnAgency(agency);
        } else if (operatorAgency[msg.sender] != agency) {
            revert NotAgencyOrOperator(msg.sender, agency);
        }
    }

    /// @dev The consultation's agency; reverts when no consultation has this id.
    function _agencyOf(Record storage r, uint256 id) private view returns (address agency) {
        agency = r.agency;
        if (agency == address(0)) revert UnknownConsultation(id);
    }
}
