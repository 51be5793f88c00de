//! Reading anchored roots from an EVM chain over JSON-RPC (feature `client`): just enough for
//! `tickchain verify --rpc` to ask a `TickOracle` what it stores.
//!
//! Owns: the two calls (`eth_chainId`, `eth_call` of `rootAt(uint64)`), their hand-written ABI
//! encoding, and comparing a proof's anchor with the stored root. Never: sends transactions,
//! holds keys, or trusts anything but the answer of the endpoint it was given (the auditor picks
//! the endpoint; a lying endpoint can only make a check pass that it could also answer falsely).
//!
//! ```text
//! calldata = keccak256("rootAt(uint64)")[..4] || word(anchor.to)
//! eth_call({to: contract, data: calldata}, "latest") → bytes32 root (zero: nothing anchored)
//! ```

use crate::anchor::{EvmAddress, keccak256};
use crate::{Hash, Height, decode_hex};
use std::time::Duration;

/// The `TickOracle` view that returns the root anchored for a range ending at a height.
pub const ROOT_AT_SIGNATURE: &str = "rootAt(uint64)";
/// Largest JSON-RPC answer read, in bytes (the calls here answer a few hundred).
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Why a JSON-RPC call did not give an answer (the endpoint, not the proof, is at fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The endpoint could not be reached or the exchange broke off.
    #[error("cannot reach RPC {url}: {message}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The endpoint answered with a JSON-RPC error.
    #[error("RPC {url} answered {method} with error {code}: {message}")]
    Rpc {
        /// The endpoint.
        url: String,
        /// The method called.
        method: &'static str,
        /// The JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
    },
    /// The endpoint answered something that is not a JSON-RPC result of the expected shape.
    #[error("RPC {url} answered {method} unexpectedly: {message}")]
    Unexpected {
        /// The endpoint.
        url: String,
        /// The method called.
        method: &'static str,
        /// What was wrong with the answer.
        message: String,
    },
}

/// What a contract stores for an anchor's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredRoot {
    /// A root is stored under `anchor.to`.
    Root(Hash),
    /// The contract stores nothing under `anchor.to` (`rootAt` returned zero).
    NotAnchored,
    /// There is no contract at the address (`eth_call` returned no data).
    NoContract,
}

/// The calldata of `rootAt(to)`: the 4-byte selector, then `to` as a 32-byte ABI word.
pub fn root_at_calldata(to: Height) -> [u8; 36] {
    let mut data = [0u8; 36];
    data[..4].copy_from_slice(&keccak256(ROOT_AT_SIGNATURE.as_bytes())[..4]);
    data[28..].copy_from_slice(&to.0.to_be_bytes());
    data
}

/// One JSON-RPC endpoint (blocking, ureq; no tokio).
#[derive(Debug, Clone)]
pub struct EvmRpc {
    url: String,
    agent: ureq::Agent,
}

impl EvmRpc {
    /// An endpoint such as `http://127.0.0.1:8545`, with a 15 s timeout per call.
    pub fn new(url: &str) -> EvmRpc {
        EvmRpc::with_timeout(url, Duration::from_secs(15))
    }

    /// Like [`EvmRpc::new`] with a per-call timeout.
    pub fn with_timeout(url: &str, timeout: Duration) -> EvmRpc {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        EvmRpc {
            url: url.to_owned(),
            agent,
        }
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `eth_chainId`.
    pub fn chain_id(&self) -> Result<u64, RpcError> {
        let method = "eth_chainId";
        let result = self.call(method, serde_json::json!([]))?;
        let text = quantity_text(&result).ok_or_else(|| self.unexpected(method, &result))?;
        u64::from_str_radix(text, 16).map_err(|_| self.unexpected(method, &result))
    }

    /// What `contract` stores for the range ending at `to`, at the latest block.
    pub fn root_at(&self, contract: &EvmAddress, to: Height) -> Result<StoredRoot, RpcError> {
        let method = "eth_call";
        let call = serde_json::json!({
            "to": contract.to_checksum(),
            "data": format!("0x{}", hex::encode(root_at_calldata(to))),
        });
        let result = self.call(method, serde_json::json!([call, "latest"]))?;
        let data = result
            .as_str()
            .and_then(|s| s.strip_prefix("0x"))
            .ok_or_else(|| self.unexpected(method, &result))?;
        if data.is_empty() {
            return Ok(StoredRoot::NoContract);
        }
        let word = decode_hex::<32>(data).map_err(|_| self.unexpected(method, &result))?;
        Ok(if word == [0; 32] {
            StoredRoot::NotAnchored
        } else {
            StoredRoot::Root(Hash(word))
        })
    }

    fn call(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, RpcError> {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let transport = |e: ureq::Error| RpcError::Transport {
            url: self.url.clone(),
            message: e.to_string(),
        };
        let mut response = self
            .agent
            .post(&self.url)
            .send_json(&body)
            .map_err(transport)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(transport)?;
        let answer: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| RpcError::Unexpected {
                url: self.url.clone(),
                method,
                message: format!("HTTP {status}, not JSON: {e}"),
            })?;
        if let Some(err) = answer.get("error") {
            return Err(RpcError::Rpc {
                url: self.url.clone(),
                method,
                code: err.get("code").and_then(|c| c.as_i64()).unwrap_or(0),
                message: err
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("(no message)")
                    .to_owned(),
            });
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| RpcError::Unexpected {
                url: self.url.clone(),
                method,
                message: format!("HTTP {status} without a result: {}", clip(&text)),
            })
    }

    fn unexpected(&self, method: &'static str, result: &serde_json::Value) -> RpcError {
        RpcError::Unexpected {
            url: self.url.clone(),
            method,
            message: format!("result {}", clip(&result.to_string())),
        }
    }
}

/// The hex digits of a JSON-RPC quantity (`"0x7a69"`).
fn quantity_text(v: &serde_json::Value) -> Option<&str> {
    v.as_str()?
        .strip_prefix("0x")
        .filter(|s| !s.is_empty() && s.len() <= 16)
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_at_calldata_is_a_selector_the_compiled_contract_dispatches_and_one_abi_word() {
        let data = root_at_calldata(Height(0x0102));
        let artifact: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../contracts/artifacts/TickOracle.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let code = artifact["deployedBytecode"]
            .as_str()
            .unwrap()
            .to_lowercase();
        // The dispatcher compares the calldata's selector with PUSH4 (0x63) <selector>.
        let push4 = format!("63{}", hex::encode(&data[..4]));
        assert!(
            code.contains(&push4),
            "selector {push4} not in the contract"
        );
        assert_eq!(data[4..34], [0u8; 30]);
        assert_eq!(data[34..], [1, 2]);
    }

    #[test]
    fn an_unreachable_endpoint_is_a_transport_error_naming_the_url() {
        // Port 9 on loopback (discard) is closed on test machines.
        let rpc = EvmRpc::with_timeout("http://127.0.0.1:9", Duration::from_secs(2));
        let err = rpc.chain_id().unwrap_err();
        assert!(matches!(err, RpcError::Transport { .. }), "{err}");
        assert!(err.to_string().contains("http://127.0.0.1:9"), "{err}");
    }

    #[test]
    fn quantities_need_0x_and_at_most_16_digits() {
        assert_eq!(quantity_text(&serde_json::json!("0x7a69")), Some("7a69"));
        assert_eq!(quantity_text(&serde_json::json!("7a69")), None);
        assert_eq!(quantity_text(&serde_json::json!("0x")), None);
        assert_eq!(quantity_text(&serde_json::json!(31337)), None);
    }
}
