//! Anchors in `tickchain verify`: `--rpc CHAIN=URL` parsing, the on-chain root check, and the
//! lines that report each anchor.

use crate::Failure;
use tickchain_sdk::CheckedAnchor;
use tickchain_sdk::evm_rpc::{EvmRpc, StoredRoot};

/// One `--rpc CHAIN=URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcArg {
    /// The chain id whose anchors this endpoint checks.
    pub chain_id: u64,
    /// The JSON-RPC endpoint.
    pub url: String,
}

/// Parses `CHAIN=URL` (clap value parser).
pub fn parse_rpc(s: &str) -> Result<RpcArg, String> {
    let (chain, url) = s.split_once('=').ok_or_else(|| {
        format!("expected CHAIN=URL (e.g. 137=https://polygon-rpc.com), got {s:?}")
    })?;
    let chain_id = chain
        .parse::<u64>()
        .map_err(|_| format!("expected a decimal chain id before '=', got {chain:?}"))?;
    if url.is_empty() {
        return Err(format!("expected a URL after '{chain}='"));
    }
    Ok(RpcArg {
        chain_id,
        url: url.to_owned(),
    })
}

/// How one anchor stands after the checks asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Only the offline path check ran (no `--rpc` for its chain).
    Offline,
    /// The contract stores the anchor's root under `anchor.to`.
    Confirmed,
}

/// Checks every anchor whose chain has an `--rpc`: the endpoint's chain id must be that chain
/// (else bad input, exit 2) and the contract's root under `anchor.to` must be the anchor's (else
/// `anchor_root_mismatch` / `anchor_missing`, exit 1). Returns each anchor's standing, in order,
/// and the `--rpc` chains the proof has no anchor on.
pub fn check_on_chain(
    anchors: &[CheckedAnchor],
    rpcs: &[RpcArg],
) -> Result<(Vec<Standing>, Vec<u64>), Failure> {
    let mut standing = vec![Standing::Offline; anchors.len()];
    let mut unused = Vec::new();
    for (i, rpc) in rpcs.iter().enumerate() {
        if rpcs[..i].iter().any(|r| r.chain_id == rpc.chain_id) {
            return Err(Failure::BadInput(format!(
                "--rpc given twice for chain {}",
                rpc.chain_id
            )));
        }
        let ours: Vec<usize> = (0..anchors.len())
            .filter(|&k| anchors[k].chain_id == rpc.chain_id)
            .collect();
        if ours.is_empty() {
            unused.push(rpc.chain_id);
            continue;
        }
        let client = EvmRpc::new(&rpc.url);
        let found = client
            .chain_id()
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        if found != rpc.chain_id {
            return Err(Failure::BadInput(format!(
                "RPC {} is chain {found}, not chain {} as --rpc {}={} says",
                rpc.url, rpc.chain_id, rpc.chain_id, rpc.url
            )));
        }
        for k in ours {
            let a = &anchors[k];
            let stored = client
                .root_at(&a.contract, a.anchor.to)
                .map_err(|e| Failure::BadInput(e.to_string()))?;
            let place = format!(
                "TickOracle {} on chain {} (RPC {})",
                a.contract, a.chain_id, rpc.url
            );
            match stored {
                StoredRoot::Root(root) if root == a.anchor.root => {
                    standing[k] = Standing::Confirmed;
                }
                StoredRoot::Root(root) => {
                    return Err(Failure::Invalid(format!(
                        "anchor_root_mismatch: {place} stores root {root} for height {}, the proof's anchor has {}",
                        a.anchor.to, a.anchor.root
                    )));
                }
                StoredRoot::NotAnchored => {
                    return Err(Failure::Invalid(format!(
                        "anchor_missing: {place} stores no root for height {} (the proof claims {})",
                        a.anchor.to, a.anchor.root
                    )));
                }
                StoredRoot::NoContract => {
                    return Err(Failure::Invalid(format!(
                        "anchor_missing: no contract at {} on chain {} (RPC {}: eth_call returned no data)",
                        a.contract, a.chain_id, rpc.url
                    )));
                }
            }
        }
    }
    Ok((standing, unused))
}

/// The lines `verify` prints for one anchor.
pub fn describe(a: &CheckedAnchor, standing: Standing) -> [String; 2] {
    let what = match standing {
        Standing::Confirmed => "root confirmed by RPC".to_string(),
        Standing::Offline => format!(
            "path checked offline, root not checked on chain (add --rpc {}=URL)",
            a.chain_id
        ),
    };
    [
        format!(
            "    anchored on chain {} at block {} (tx {}): {what}",
            a.chain_id, a.block_number, a.tx_hash
        ),
        format!(
            "      ticks {}..={} (second {}), root {}, contract {}",
            a.anchor.from, a.anchor.to, a.anchor.second, a.anchor.root, a.contract
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_args_need_a_decimal_chain_and_a_url() {
        assert_eq!(
            parse_rpc("137=http://127.0.0.1:8545"),
            Ok(RpcArg {
                chain_id: 137,
                url: "http://127.0.0.1:8545".into()
            })
        );
        assert!(parse_rpc("http://x").is_err());
        assert!(parse_rpc("0x89=http://x").is_err());
        assert!(parse_rpc("137=").is_err());
    }
}
