//! The gateway's identity-statement key from the cloud, against moto (`AWS_ENDPOINT_URL`):
//! a PKCS#8 PEM key in Secrets Manager (statements verify with the published JWKS, a
//! rotation is picked up without a restart while the previous key stays published, a
//! staged AWSPENDING key is published before it signs) and a KMS key (statements verify
//! with GetPublicKey's key; a failing Sign fails the call before the target is reached).
//! Unusable keys stop start-up with a message that names the key and never shows it. Run
//! by `make test`; without `AWS_ENDPOINT_URL` these tests fail, never skip.

mod statements;

mod signing;
mod startup;
