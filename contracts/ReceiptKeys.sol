// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

// Block numbers in events stay unindexed: nobody filters by them, and indexing would cost gas for nothing.
/* solhint-disable gas-indexed-events */

/**
 * @title ReceiptKeys
 * @notice The public record of the Ed25519 public keys that sign Gopy receipts: for each key, who added
 *         it and in which block, and the block it was retired in. A verifier takes the keys from here,
 *         not from the service, and keeps every key ever added: a receipt signed by a retired key still
 *         verifies (retiring says "no longer used for new receipts", never "disowned").
 *
 * @dev History is never rewritten: a key is added once, retired at most once, and a retired key cannot
 *      be added again. Who may add or retire keys is decided by the inheriting contract
 *      (_isReceiptKeyManager).
 *
 *      Storage: one slot per key (addedBy 160 | addedBlock 48 | retiredBlock 48 bits) and one list
 *      entry, so enumerating needs no events. Block numbers fit 48 bits for millions of years of blocks;
 *      the external interface uses uint64.
 */
abstract contract ReceiptKeys {
    /// @dev One key's record; addedBy is zero for a key never added.
    struct ReceiptKeyRecord {
        address addedBy;
        uint48 addedBlock;
        uint48 retiredBlock;
    }

    /// @notice One key and its record, as returned by `receiptKeys(offset, limit)`.
    // solhint-disable-next-line gas-struct-packing
    struct ReceiptKeyView {
        bytes32 publicKey;
        address addedBy;
        uint64 addedBlock;
        uint64 retiredBlock;
    }

    mapping(bytes32 publicKey => ReceiptKeyRecord) private _receiptKeyRecords;

    bytes32[] private _receiptKeyList;

    /// @notice `addedBy` added the receipt-signing key `publicKey` in block `blockNumber`.
    event ReceiptKeyAdded(bytes32 indexed publicKey, address indexed addedBy, uint64 blockNumber);
    /// @notice `retiredBy` retired the receipt-signing key `publicKey` in block `blockNumber`.
    event ReceiptKeyRetired(bytes32 indexed publicKey, address indexed retiredBy, uint64 blockNumber);

    /// @notice The zero key was given; no Ed25519 public key is all zeros.
    error ZeroReceiptKey();
    /// @notice `publicKey` was added already (in `addedBlock`); a key is added once, even after retiring.
    error ReceiptKeyAlreadyAdded(bytes32 publicKey, uint64 addedBlock);
    /// @notice `publicKey` was never added.
    error UnknownReceiptKey(bytes32 publicKey);
    /// @notice `publicKey` was retired already, in `retiredBlock`.
    error ReceiptKeyAlreadyRetired(bytes32 publicKey, uint64 retiredBlock);
    /// @notice `caller` may not add or retire receipt keys.
    error NotReceiptKeyManager(address caller);

    /**
     * @notice Records a receipt-signing public key, added by the caller in this block.
     * @dev Caller: a receipt key manager (see the inheriting contract). Refused for the zero key and for
     *      any key added before, retired or not.
     * @param publicKey The Ed25519 public key (32 bytes, as in the JWK's `x`).
     */
    function addReceiptKey(bytes32 publicKey) external {
        if (!_isReceiptKeyManager(msg.sender)) revert NotReceiptKeyManager(msg.sender);
        if (publicKey == bytes32(0)) revert ZeroReceiptKey();
        ReceiptKeyRecord storage k = _receiptKeyRecords[publicKey];
        if (k.addedBy != address(0)) revert ReceiptKeyAlreadyAdded(publicKey, k.addedBlock);
        k.addedBy = msg.sender;
        k.addedBlock = uint48(block.number);
        _receiptKeyList.push(publicKey);
        emit ReceiptKeyAdded(publicKey, msg.sender, uint64(block.number));
    }

    /**
     * @notice Retires a receipt-signing key in this block: receipts it signed stay valid, and verifiers
     *         learn that the service no longer signs with it.
     * @dev Caller: a receipt key manager. Refused for a key never added or already retired.
     * @param publicKey The Ed25519 public key.
     */
    function retireReceiptKey(bytes32 publicKey) external {
        if (!_isReceiptKeyManager(msg.sender)) revert NotReceiptKeyManager(msg.sender);
        ReceiptKeyRecord storage k = _receiptKeyRecords[publicKey];
        if (k.addedBy == address(0)) revert UnknownReceiptKey(publicKey);
        uint64 retiredBlock = k.retiredBlock;
        if (retiredBlock != 0) revert ReceiptKeyAlreadyRetired(publicKey, retiredBlock);
        k.retiredBlock = uint48(block.number);
        emit ReceiptKeyRetired(publicKey, msg.sender, uint64(block.number));
    }

    /**
     * @notice The record of one receipt-signing key.
     * @param publicKey The Ed25519 public key.
     * @return addedBy Who added it (zero when it was never added).
     * @return addedBlock The block it was added in (zero when never added).
     * @return retiredBlock The block it was retired in (zero while it is not retired).
     */
    function receiptKey(bytes32 publicKey)
        external
        view
        returns (address addedBy, uint64 addedBlock, uint64 retiredBlock)
    {
        ReceiptKeyRecord storage k = _receiptKeyRecords[publicKey];
        return (k.addedBy, k.addedBlock, k.retiredBlock);
    }

    /**
     * @notice Number of receipt-signing keys ever added (retired ones included).
     * @return The count; `receiptKeys(0, count)` lists them all.
     */
    function receiptKeyCount() external view returns (uint256) {
        return _receiptKeyList.length;
    }

    /**
     * @notice A page of the receipt-signing keys ever added, in the order they were added.
     * @dev The page is cut at the end of the list: an offset at or past the count gives an empty page.
     * @param offset Index of the first key of the page.
     * @param limit Most keys the page holds.
     * @return page The keys with their records.
     */
    function receiptKeys(uint256 offset, uint256 limit) external view returns (ReceiptKeyView[] memory page) {
        uint256 count = _receiptKeyList.length;
        uint256 end = offset < count ? (limit < count - offset ? offset + limit : count) : offset;
        page = new ReceiptKeyView[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            bytes32 publicKey = _receiptKeyList[i];
            ReceiptKeyRecord storage k = _receiptKeyRecords[publicKey];
            page[i - offset] = ReceiptKeyView({
                publicKey: publicKey,
                addedBy: k.addedBy,
                addedBlock: k.addedBlock,
                retiredBlock: k.retiredBlock
            });
        }
    }

    /**
     * @dev True when `account` may add and retire receipt keys.
     * @param account The caller.
     * @return Whether it is a receipt key manager.
     */
    function _isReceiptKeyManager(address account) internal view virtual returns (bool);
}
