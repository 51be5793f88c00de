//! Fuzz target: any bytes given to the TSA's request parser, to the token reader or to the
//! certificate reader never panic. Whatever the parser accepts gets a token that reads back with
//! the request's digest, the stated genTime and the proof bytes it carried; a refusal's reply
//! reads back as a refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_sdk::rfc3161::der::{self, constructed, tlv};
use tickchain_sdk::rfc3161::read::{Reply, read};
use tickchain_sdk::rfc3161::request::TsaRequest;
use tickchain_sdk::rfc3161::signer::SignerCertificate;
use tickchain_sdk::rfc3161::token::{self, Accuracy, Statement};

/// A syntactically valid certificate (nothing checks its signature here).
fn certificate() -> SignerCertificate {
    let name = constructed(der::SEQUENCE, &[]);
    let alg = constructed(der::SEQUENCE, &[&tlv(der::OID, &[0x2a, 0x03])]);
    let validity = constructed(
        der::SEQUENCE,
        &[
            &der::generalized_time(0).unwrap(),
            &der::generalized_time(4_000_000_000).unwrap(),
        ],
    );
    let tbs = constructed(
        der::SEQUENCE,
        &[
            &tlv(0xa0, &der::uint(2)),
            &der::uint(7),
            &alg,
            &name,
            &validity,
            &name,
            &constructed(der::SEQUENCE, &[&alg, &tlv(der::BIT_STRING, &[0, 4, 1])]),
        ],
    );
    let cert = constructed(der::SEQUENCE, &[&tbs, &alg, &tlv(der::BIT_STRING, &[0, 1, 2])]);
    SignerCertificate::parse(&cert).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let _ = read(data);
    if let Ok(c) = SignerCertificate::parse(data) {
        let _ = (c.public_key(), c.issuer(), c.subject(), c.serial(), c.sha256());
    }
    match TsaRequest::parse(data) {
        Ok(request) => {
            let statement = Statement {
                gen_time: 1_800_000_000,
                accuracy: Accuracy { micros: 20_123 },
                serial: [0x9c; 16],
                proof: data,
            };
            let tok = token::token(&request, &statement, &certificate(), |m| Ok(m[..8].to_vec()))
                .unwrap();
            let Reply::Token(info) = read(&token::granted(&tok)).unwrap() else {
                panic!("a granted reply read back as a refusal");
            };
            assert_eq!(info.digest, request.digest);
            assert_eq!(info.gen_time, statement.gen_time);
            assert_eq!(info.proof.as_deref(), Some(data));
            assert_eq!(info.accuracy_micros, Some(statement.accuracy.micros));
            assert_eq!(info.nonce, request.nonce);
            assert_eq!(info.has_certificates, request.cert_req);
        }
        Err(refusal) => {
            let reply = token::rejection(&refusal);
            assert!(matches!(read(&reply), Ok(Reply::Refused { status: 2, .. })));
        }
    }
});
