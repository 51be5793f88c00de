//! A blocking client for the Timestamp API (feature `client`).
//!
//! Owns: URLs, request bodies and the mapping of statuses to results. Never: tokio or an async
//! runtime (ureq over rustls on ring, so auditors' builds stay small), and never trusts a
//! response it cannot parse: proofs still go through [`crate::verify`].

mod wire;

pub use wire::{Receipt, TickSummary};

use crate::time_response::{Nonce, SignedTime};
use crate::{Digest, Proof};
use std::time::Duration;
use wire::{ErrorBody, ProofBody, ProofsBody, ReceiptsBody};

/// Largest response body read, in bytes (proofs for many digests can be large).
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or the exchange broke off.
    #[error("cannot reach {url}: {message}")]
    Transport {
        /// The URL called.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an API error.
    #[error("{url} answered {status} {code}: {message}")]
    Api {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The API's error code, e.g. `bad_hex`.
        code: String,
        /// The API's explanation.
        message: String,
    },
    /// The server answered something this client does not understand.
    #[error("{url} answered {status} with an unexpected body: {message}")]
    Unexpected {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// What was wrong with it.
        message: String,
    },
}

/// What `stamp` got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StampOutcome {
    /// Accepted; one receipt per digest (without `wait`).
    Accepted(Vec<Receipt>),
    /// Final; one proof per digest, in order (with `wait`).
    Proofs(Vec<Proof>),
    /// Accepted, but not final within the server's wait timeout; fetch proofs later.
    TimedOut(Vec<Receipt>),
}

/// What `proof` got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofLookup {
    /// The proof (not yet verified: call [`crate::verify`]).
    Ready(Box<Proof>),
    /// Accepted, not yet final.
    Pending(Receipt),
    /// The node never accepted this digest.
    Unknown,
}

/// A Timestamp API endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the API at `base_url` (e.g. `http://127.0.0.1:7300`), with a 120 s timeout
    /// per call (a `wait` call lasts up to the server's wait timeout).
    pub fn new(base_url: &str) -> Client {
        Client::with_timeout(base_url, Duration::from_secs(120))
    }

    /// Like [`Client::new`] with a per-call timeout.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Client {
            base: base_url.trim_end_matches('/').to_owned(),
            agent,
        }
    }

    /// Submits `digests`; with `wait`, holds until their proofs are final or the server's
    /// wait timeout passes.
    pub fn stamp(&self, digests: &[Digest], wait: bool) -> Result<StampOutcome, ClientError> {
        let url = format!(
            "{}/v1/timestamps{}",
            self.base,
            if wait { "?wait=true" } else { "" }
        );
        let body = serde_json::json!({ "digests": digests });
        let (status, text) = self.exchange(&url, self.agent.post(&url).send_json(&body))?;
        match status {
            202 => parse::<ReceiptsBody>(&url, status, &text)
                .map(|b| StampOutcome::Accepted(b.receipts)),
            200 => parse::<ProofsBody>(&url, status, &text).map(|b| StampOutcome::Proofs(b.proofs)),
            504 => parse::<ReceiptsBody>(&url, status, &text)
                .map(|b| StampOutcome::TimedOut(b.receipts)),
            _ => Err(api_error(&url, status, &text)),
        }
    }

    /// The proof of `digest`, or where it stands.
    pub fn proof(&self, digest: &Digest) -> Result<ProofLookup, ClientError> {
        let url = format!("{}/v1/proofs/{digest}", self.base);
        let (status, text) = self.exchange(&url, self.agent.get(&url).call())?;
        match status {
            200 | 202 => match parse::<ProofBody>(&url, status, &text)? {
                ProofBody::Ready { proof } => Ok(ProofLookup::Ready(proof)),
                ProofBody::Pending { receipt } => Ok(ProofLookup::Pending(receipt)),
            },
            404 => match serde_json::from_str::<ErrorBody>(&text) {
                Ok(e) if e.error.code == "not_found" => Ok(ProofLookup::Unknown),
                _ => Err(api_error(&url, status, &text)),
            },
            _ => Err(api_error(&url, status, &text)),
        }
    }

    /// The node's signed time, echoing `nonce`. Check it with [`SignedTime::verify`] against
    /// the node's genesis key, and compare the nonce.
    pub fn time(&self, nonce: &Nonce) -> Result<SignedTime, ClientError> {
        let url = format!("{}/v1/time?nonce={}", self.base, hex::encode(&nonce.0));
        let (status, text) = self.exchange(&url, self.agent.get(&url).call())?;
        match status {
            200 => parse(&url, status, &text),
            _ => Err(api_error(&url, status, &text)),
        }
    }

    /// The newest final tick, or `None` before the first.
    pub fn latest_tick(&self) -> Result<Option<TickSummary>, ClientError> {
        let url = format!("{}/v1/ticks/latest", self.base);
        let (status, text) = self.exchange(&url, self.agent.get(&url).call())?;
        match status {
            200 => parse(&url, status, &text).map(Some),
            404 => Ok(None),
            _ => Err(api_error(&url, status, &text)),
        }
    }

    /// `GET {base}{path}` (e.g. `/v1/network`), parsed as JSON: for endpoints whose body type
    /// the caller owns (the server crate's types). Any status but 200 is an error.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let (status, text) = self.exchange(&url, self.agent.get(&url).call())?;
        match status {
            200 => parse(&url, status, &text),
            _ => Err(api_error(&url, status, &text)),
        }
    }

    /// `GET {base}{path}` as text (e.g. `/metrics`). Any status but 200 is an error.
    pub fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let url = format!("{}{path}", self.base);
        let (status, text) = self.exchange(&url, self.agent.get(&url).call())?;
        match status {
            200 => Ok(text),
            _ => Err(api_error(&url, status, &text)),
        }
    }

    fn exchange(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, String), ClientError> {
        let transport = |e: ureq::Error| ClientError::Transport {
            url: url.to_owned(),
            message: e.to_string(),
        };
        let mut response = result.map_err(transport)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(transport)?;
        Ok((status, text))
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    url: &str,
    status: u16,
    text: &str,
) -> Result<T, ClientError> {
    serde_json::from_str(text).map_err(|e| ClientError::Unexpected {
        url: url.to_owned(),
        status,
        message: e.to_string(),
    })
}

fn api_error(url: &str, status: u16, text: &str) -> ClientError {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => ClientError::Api {
            url: url.to_owned(),
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ClientError::Unexpected {
            url: url.to_owned(),
            status,
            message: text.chars().take(200).collect(),
        },
    }
}
