// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title TickOracle
/// @notice Anchors ranges of tickchain ticks on an EVM chain. The tickchain ring co-signs, every K
///         ticks, an EIP-712 `Anchor(fromHeight, toHeight, second, root)` with its nodes'
///         secp256k1 attestation keys; anyone may relay it here. `root` is the BLAKE3 Merkle root
///         of the tick hashes `fromHeight..=toHeight` (`specs/encoding.md` §6).
/// @dev Owns: the registered signer set (per epoch), the threshold, the newest anchored height
///      and second, and the root anchored at each `toHeight`. Never: trusts `msg.sender`
///      (authority comes only from signatures), accepts a signature made for another chain or
///      contract (the EIP-712 domain binds both), a malleable (high-s) signature, the zero
///      address as a signer, or the same signer twice.
///
///      Signatures are passed packed, 65 bytes each (`r || s || v`, v in {27, 28}), sorted by
///      strictly ascending recovered signer address: the ordering makes "distinct" a single
///      comparison per signature, with no bitmap and no extra storage.
contract TickOracle {
    /// @notice keccak256 of the EIP-712 domain type.
    bytes32 public constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @notice keccak256 of the EIP-712 anchor type.
    bytes32 public constant ANCHOR_TYPEHASH =
        keccak256("Anchor(uint64 fromHeight,uint64 toHeight,uint64 second,bytes32 root)");
    /// @notice keccak256 of the EIP-712 signer-set rotation type.
    bytes32 public constant ROTATE_TYPEHASH =
        keccak256("Rotate(uint64 newEpoch,address[] signers,uint8 threshold)");
    /// @notice Most signers a set may hold.
    uint256 public constant MAX_SIGNERS = 255;

    /// @dev keccak256("TickOracle") and keccak256("1"), the domain's name and version.
    bytes32 private constant NAME_HASH = keccak256("TickOracle");
    bytes32 private constant VERSION_HASH = keccak256("1");
    /// @dev secp256k1n / 2: a canonical (low-s) signature has s <= this (EIP-2).
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// @dev Bytes per packed signature: r (32) || s (32) || v (1).
    uint256 private constant SIG_LEN = 65;

    /// @dev Everything an anchor reads and writes, packed into one storage slot (208 bits).
    struct State {
        uint64 latestHeight;
        uint64 latestSecond;
        uint64 epoch;
        uint8 threshold;
        uint8 signerCount;
    }

    State private _state;
    /// @dev epoch => signer => registered. A rotation writes a fresh epoch, so the old set needs
    ///      no deletion: it is simply never consulted again.
    mapping(uint64 => mapping(address => bool)) private _registered;
    /// @dev toHeight => the root anchored for the range ending there.
    mapping(uint64 => bytes32) private _roots;

    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    /// @notice A range of ticks was anchored.
    /// @param toHeight The last height of the range (the key of `rootAt`).
    /// @param fromHeight The first height of the range.
    /// @param second The UTC second (POSIX) of the tick at `toHeight`.
    /// @param root The Merkle root of the range's tick hashes.
    event Anchored(uint64 indexed toHeight, uint64 fromHeight, uint64 second, bytes32 root);
    /// @notice The signer set was replaced.
    /// @param epoch The new epoch.
    /// @param signers The new signers, ascending.
    /// @param threshold Signatures now required.
    event Rotated(uint64 indexed epoch, address[] signers, uint8 threshold);

    /// @notice The signature bytes are not a whole number of 65-byte signatures.
    error SignaturesLengthInvalid(uint256 expectedMultipleOf, uint256 found);
    /// @notice Fewer signatures than the threshold.
    error TooFewSignatures(uint256 expected, uint256 found);
    /// @notice Signature `index` has s above secp256k1n/2 (malleable).
    error SignatureMalleable(uint256 index);
    /// @notice Signature `index` has a v other than 27 or 28.
    error SignatureVInvalid(uint256 index, uint8 found);
    /// @notice Signature `index` recovers to no address.
    error SignatureInvalid(uint256 index);
    /// @notice Signers are not strictly ascending (a duplicate, or out of order) at `index`.
    error SignersNotAscending(uint256 index, address previous, address found);
    /// @notice Signature `index` recovers to an address outside the current set.
    error SignerNotRegistered(uint256 index, address found);
    /// @notice The range is empty or reversed.
    error RangeInvalid(uint64 fromHeight, uint64 toHeight);
    /// @notice The range does not start above the newest anchored height.
    error HeightNotIncreasing(uint64 expectedAbove, uint64 found);
    /// @notice The second is not above the newest anchored second.
    error SecondNotIncreasing(uint64 expectedAbove, uint64 found);
    /// @notice A signer set is empty, too large, unsorted, contains address 0, or its threshold
    ///         is not a strict majority.
    error SignerSetInvalid(uint256 count, uint256 threshold);

    /// @notice Deploys with the initial signer set (epoch 0).
    /// @param signers The signer addresses, strictly ascending, none zero.
    /// @param threshold_ Signatures required: a strict majority of `signers`, at most all of them.
    constructor(address[] memory signers, uint8 threshold_) {
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
        _register(0, signers, threshold_);
    }

    /// @notice Anchors the ticks `fromHeight..=toHeight`, whose last tick is at `second`.
    /// @param fromHeight First height of the range; above every anchored height.
    /// @param toHeight Last height of the range; at least `fromHeight`.
    /// @param second UTC second of the tick at `toHeight`; above the newest anchored second.
    /// @param root BLAKE3 Merkle root of the range's tick hashes.
    /// @param signatures At least `threshold` packed signatures of the current set over
    ///        `anchorDigest(...)`, sorted by ascending signer address.
    function anchor(uint64 fromHeight, uint64 toHeight, uint64 second, bytes32 root, bytes calldata signatures)
        external
    {
        State memory s = _state;
        if (toHeight < fromHeight) revert RangeInvalid(fromHeight, toHeight);
        if (fromHeight <= s.latestHeight) revert HeightNotIncreasing(s.latestHeight, fromHeight);
        if (second <= s.latestSecond) revert SecondNotIncreasing(s.latestSecond, second);

        _checkSignatures(anchorDigest(fromHeight, toHeight, second, root), signatures, s.epoch, s.threshold);

        _state = State(toHeight, second, s.epoch, s.threshold, s.signerCount);
        _roots[toHeight] = root;
        emit Anchored(toHeight, fromHeight, second, root);
    }

    /// @notice Replaces the signer set; the current set must sign the EIP-712
    ///         `Rotate(epoch + 1, newSigners, newThreshold)`.
    /// @param newSigners The new signer addresses, strictly ascending, none zero.
    /// @param newThreshold The new threshold: a strict majority of `newSigners`.
    /// @param signatures At least `threshold` packed signatures of the current set over
    ///        `rotateDigest(...)`, sorted by ascending signer address.
    function rotate(address[] calldata newSigners, uint8 newThreshold, bytes calldata signatures) external {
        State memory s = _state;
        uint64 newEpoch = s.epoch + 1;
        _checkSignatures(rotateDigest(newEpoch, newSigners, newThreshold), signatures, s.epoch, s.threshold);
        _register(newEpoch, newSigners, newThreshold);
    }

    /// @notice The newest anchored height (0 before the first anchor).
    function latestHeight() external view returns (uint64) {
        return _state.latestHeight;
    }

    /// @notice The UTC second of the newest anchored tick (0 before the first anchor).
    function latestSecond() external view returns (uint64) {
        return _state.latestSecond;
    }

    /// @notice The root anchored for the range ending at `toHeight` (zero if none ends there).
    function rootAt(uint64 toHeight) external view returns (bytes32) {
        return _roots[toHeight];
    }

    /// @notice The current signer-set epoch (0 at deployment, +1 per rotation).
    function epoch() external view returns (uint64) {
        return _state.epoch;
    }

    /// @notice Signatures the current set requires.
    function threshold() external view returns (uint8) {
        return _state.threshold;
    }

    /// @notice Number of signers in the current set.
    function signerCount() external view returns (uint8) {
        return _state.signerCount;
    }

    /// @notice Whether `account` is in the current signer set.
    function isSigner(address account) external view returns (bool) {
        return _registered[_state.epoch][account];
    }

    /// @notice The EIP-712 domain separator: name "TickOracle", version "1", this chain's id and
    ///         this contract's address.
    function domainSeparator() public view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @notice The EIP-712 digest the signers sign for an anchor.
    function anchorDigest(uint64 fromHeight, uint64 toHeight, uint64 second, bytes32 root)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(ANCHOR_TYPEHASH, fromHeight, toHeight, second, root));
        return _toTypedDataHash(structHash);
    }

    /// @notice The EIP-712 digest the current set signs to rotate to `newSigners`.
    function rotateDigest(uint64 newEpoch, address[] calldata newSigners, uint8 newThreshold)
        public
        view
        returns (bytes32)
    {
        // EIP-712 encodes address[] as keccak256 of its elements, each padded to 32 bytes,
        // which is exactly abi.encodePacked of the array.
        bytes32 signersHash = keccak256(abi.encodePacked(newSigners));
        bytes32 structHash = keccak256(abi.encode(ROTATE_TYPEHASH, newEpoch, signersHash, newThreshold));
        return _toTypedDataHash(structHash);
    }

    /// @dev Reverts unless `signatures` holds at least `required` valid low-s signatures over
    ///      `digest`, by strictly ascending registered signers of `epoch_`.
    function _checkSignatures(bytes32 digest, bytes calldata signatures, uint64 epoch_, uint256 required)
        private
        view
    {
        uint256 count = signatures.length / SIG_LEN;
        if (count * SIG_LEN != signatures.length) revert SignaturesLengthInvalid(SIG_LEN, signatures.length);
        if (count < required) revert TooFewSignatures(required, count);

        mapping(address => bool) storage registered = _registered[epoch_];
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 r;
            uint256 s;
            uint8 v;
            assembly ("memory-safe") {
                let p := add(signatures.offset, mul(i, SIG_LEN))
                r := calldataload(p)
                s := calldataload(add(p, 32))
                v := byte(0, calldataload(add(p, 64)))
            }
            // ecrecover itself accepts both s and n - s (EIP-2 is only enforced for
            // transactions), and returns 0 on failure instead of reverting.
            if (s > HALF_N) revert SignatureMalleable(i);
            if (v != 27 && v != 28) revert SignatureVInvalid(i, v);
            address signer = ecrecover(digest, v, r, bytes32(s));
            if (signer == address(0)) revert SignatureInvalid(i);
            if (signer <= previous) revert SignersNotAscending(i, previous, signer);
            if (!registered[signer]) revert SignerNotRegistered(i, signer);
            previous = signer;
        }
    }

    /// @dev Validates and stores a signer set as `epoch_`, then announces it.
    function _register(uint64 epoch_, address[] memory signers, uint8 threshold_) private {
        uint256 n = signers.length;
        if (n == 0 || n > MAX_SIGNERS || uint256(threshold_) * 2 <= n || threshold_ > n) {
            revert SignerSetInvalid(n, threshold_);
        }
        mapping(address => bool) storage registered = _registered[epoch_];
        address previous = address(0);
        for (uint256 i = 0; i < n; ++i) {
            address signer = signers[i];
            // Ascending from address(0) also rules out address 0 and duplicates.
            if (signer <= previous) revert SignerSetInvalid(n, threshold_);
            registered[signer] = true;
            previous = signer;
        }
        State memory s = _state;
        _state = State(s.latestHeight, s.latestSecond, epoch_, threshold_, uint8(n));
        emit Rotated(epoch_, signers, threshold_);
    }

    /// @dev keccak256("\x19\x01" || domainSeparator || structHash) (EIP-712).
    function _toTypedDataHash(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    /// @dev The domain separator for the current chain id and this address.
    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }
}
