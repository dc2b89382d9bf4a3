//! The relay's `POST /token`: a relayed code is redeemed only by the flow it came back for
//! (client id, exact redirect URI, PKCE verifier; RFC 6749 §4.1.3) before the IdP sees it;
//! refresh tokens are relayed, never stored.

use super::flow::{CODE, RelayCode, client_key, s256};
use super::redirect;
use super::relay::{Facade, params};
use super::{OAuthError, RegistrationMode};

impl Facade {
    /// The IdP's code behind a relayed one, when it is redeemed by the flow it came back for.
    fn open_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: &str,
        now: u64,
    ) -> Result<String, OAuthError> {
        let grant = |why: &str| OAuthError::InvalidGrant(why.into());
        let c: RelayCode = self
            .sealer
            .open(CODE, code, now)
            .map_err(|_| grant("the code is unknown or expired"))?;
        if c.k != client_key(client_id) {
            return Err(grant("the code was issued to another client"));
        }
        if c.r != redirect_uri {
            return Err(grant("redirect_uri differs from the authorization request"));
        }
        if s256(verifier) != c.x {
            return Err(grant("code_verifier does not match the code challenge"));
        }
        Ok(c.c)
    }

    /// `POST /token`: the form relayed to the IdP's token endpoint with the IdP's client id
    /// and the relay's callback; the IdP's answer comes back unchanged.
    pub async fn token(&self, body: &str, now: u64) -> Result<(u16, Vec<u8>), OAuthError> {
        if !self.settings.relay {
            return Err(OAuthError::NotOffered);
        }
        let p = params(body);
        if p.keys().any(|k| k.ends_with("#dup")) {
            return Err(OAuthError::InvalidRequest("a parameter is repeated".into()));
        }
        let need = |k: &str| {
            p.get(k)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| OAuthError::InvalidRequest(format!("{k} is required")))
        };
        let client_id = need("client_id")?;
        let client = self.client(client_id, now).await?;
        let mut form: Vec<(String, String)> = vec![("client_id".into(), client.i.clone())];
        let code_grant = match p.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let given = need("redirect_uri")?;
                if redirect::find(&client.r, given).is_none() {
                    return Err(OAuthError::InvalidRequest(
                        "redirect_uri is not registered".into(),
                    ));
                }
                let verifier = need("code_verifier")?;
                let idp_code = self.open_code(need("code")?, client_id, given, verifier, now)?;
                form.push(("grant_type".into(), "authorization_code".into()));
                form.push(("code".into(), idp_code));
                form.push(("code_verifier".into(), verifier.clone()));
                form.push(("redirect_uri".into(), self.callback_url()));
                true
            }
            Some("refresh_token") => {
                form.push(("grant_type".into(), "refresh_token".into()));
                form.push(("refresh_token".into(), need("refresh_token")?.clone()));
                if let Some(s) = p.get("scope") {
                    form.push(("scope".into(), s.clone()));
                }
                false
            }
            _ => return Err(OAuthError::UnsupportedGrantType),
        };
        if let Some(r) = p.get("resource").filter(|_| self.settings.forward_resource) {
            form.push(("resource".into(), r.clone()));
        }
        let idp = self.idp.metadata().await?;
        let answer = self.idp.token(&idp.token_endpoint, &form).await?;
        // A Cognito registration that redeemed a code is in use: never swept.
        if code_grant && answer.0 == 200 && self.settings.registration == RegistrationMode::Cognito
        {
            if let Some(log) = &self.log {
                if let Err(e) = log.mark_used(&client.i, now).await {
                    tracing::warn!(error = %e, "façade: registration not marked used");
                }
            }
        }
        Ok(answer)
    }
}
