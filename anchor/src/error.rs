//! Errors from talking to a `TickOracle` deployment.
//!
//! Owns: the split between "the contract said no" (a decoded custom error) and "the chain
//! could not be reached or answered nonsense". Never: retries.

use super::bindings::TickOracle::TickOracleErrors;

/// Why a call to a `TickOracle` deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// The contract reverted with one of its custom errors (the values say what it expected
    /// and what it found).
    #[error("TickOracle rejected the call: {0:?}")]
    Rejected(TickOracleErrors),
    /// The contract reverted with data that is none of its custom errors.
    #[error("TickOracle reverted with unrecognised data 0x{0}")]
    Reverted(String),
    /// The transaction was mined but failed.
    #[error("transaction {tx} was mined with status failed (gas used {gas_used})")]
    Failed {
        /// The transaction hash.
        tx: String,
        /// Gas it consumed.
        gas_used: u64,
    },
    /// The RPC endpoint URL is malformed.
    #[error("expected an http(s) RPC URL, found {url:?}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// Why it is not a URL.
        reason: String,
    },
    /// The deployment transaction produced no contract address.
    #[error("deployment receipt {tx} has no contract address")]
    NoContractAddress {
        /// The transaction hash.
        tx: String,
    },
    /// The RPC request failed or its answer could not be decoded.
    #[error("RPC: {0}")]
    Rpc(String),
}

impl From<alloy::contract::Error> for OracleError {
    fn from(e: alloy::contract::Error) -> OracleError {
        if let Some(decoded) = e.as_decoded_interface_error::<TickOracleErrors>() {
            return OracleError::Rejected(decoded);
        }
        if let Some(data) = e.as_revert_data() {
            return OracleError::Reverted(alloy::hex::encode(data));
        }
        OracleError::Rpc(e.to_string())
    }
}

impl From<alloy::providers::PendingTransactionError> for OracleError {
    fn from(e: alloy::providers::PendingTransactionError) -> OracleError {
        OracleError::Rpc(e.to_string())
    }
}

impl From<alloy::transports::TransportError> for OracleError {
    fn from(e: alloy::transports::TransportError) -> OracleError {
        OracleError::Rpc(e.to_string())
    }
}
