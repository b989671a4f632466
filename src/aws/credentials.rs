//! Why no credentials could be loaded, said so that the message names the
//! fix.
//!
//! aws-config reports an expired SSO session, a profile written by
//! `aws login` without a cached token, and a profile whose source this build
//! cannot use all as a credentials error that a new user reads as "no
//! credentials". Its inner error types are private, so the cause is read
//! from what is public: the [`CredentialsError`] variant, an access-token
//! error ([`TokenError`]), a missing file ([`std::io::Error`]) or the SSO
//! portal's UnauthorizedException in its chain, and the profile's own
//! settings, which say which source it uses.
//! [`Explaining`] wraps the SDK's provider and turns its failure into a
//! [`CredentialsProblem`] that [`super::AwsError::from_sdk`] finds again.

use std::borrow::Cow;
use std::error::Error as StdError;

use aws_config::profile::{Profile, ProfileSet};
use aws_credential_types::provider::error::{CredentialsError, TokenError};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
use aws_types::os_shim_internal::{Env, Fs};

/// Why credentials could not be loaded, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsProblem {
    /// The profile's SSO token is expired, or was never cached.
    #[error(
        "the AWS SSO session of profile `{profile}` has expired or was never started: run `aws sso login --profile {profile}`"
    )]
    SsoSession {
        /// The profile that holds the SSO settings.
        profile: String,
    },
    /// The profile's `aws login` session has no usable cached token.
    #[error(
        "the `aws login` session of profile `{profile}` has expired or was never started: run `aws login --profile {profile}`"
    )]
    LoginSession {
        /// The profile that holds `login_session`.
        profile: String,
    },
    /// The profile names a source this build cannot use.
    #[error("profile `{profile}` uses a credential source ddns-ctl cannot use: {why}")]
    Unsupported {
        /// The profile in use.
        profile: String,
        /// Which source, and why not.
        why: String,
    },
    /// The profile's source failed for another reason (a network fault,
    /// a service error): credentials are configured, so this is not "none
    /// found".
    #[error("cannot load the credentials of profile `{profile}`: {cause} (-v shows every source that was tried)")]
    Failed {
        /// The profile in use.
        profile: String,
        /// The innermost cause the SDK gives.
        cause: String,
    },
}

/// A [`CredentialsProblem`] with the SDK's error behind it: what
/// [`Explaining`] fails with.
#[derive(Debug, thiserror::Error)]
#[error("{problem}")]
pub struct Explained {
    /// The cause and its fix.
    pub problem: CredentialsProblem,
    /// The SDK's error.
    #[source]
    pub source: CredentialsError,
}

/// What a profile gets its first credentials from, after following
/// `source_profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `sso_session` or `sso_start_url`, in this profile.
    Sso(String),
    /// `login_session`, written by `aws login`, in this profile.
    Login(String),
    /// `credential_source = NAME`, in this profile.
    Named(String, String),
    /// Anything else, or no such profile.
    Other,
}

impl Source {
    /// Reads `profile` from the config and credentials files (the same
    /// files, with the same overrides, that aws-config reads).
    pub async fn of_profile(profile: &str) -> Self {
        let selected = Some(Cow::Owned(profile.to_owned()));
        match aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), selected).await {
            Ok(set) => Self::in_set(&set, profile),
            Err(_) => Self::Other,
        }
    }

    /// Follows `source_profile` from `name` to the profile that holds the
    /// base source, as aws-config does (a bounded walk: a loop is the SDK's
    /// to report).
    pub fn in_set(set: &ProfileSet, name: &str) -> Self {
        let mut name = name.to_owned();
        for _ in 0..16 {
            let Some(profile) = set.get_profile(&name) else {
                return Self::Other;
            };
            if profile.get("role_arn").is_some() {
                if let Some(source) = profile.get("credential_source") {
                    return Self::Named(name, source.to_owned());
                }
                match profile.get("source_profile") {
                    Some(next) if next != name => {
                        name = next.to_owned();
                        continue;
                    }
                    _ => return Self::base(profile, name),
                }
            }
            return Self::base(profile, name);
        }
        Self::Other
    }

    fn base(profile: &Profile, name: String) -> Self {
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            Self::Sso(name)
        } else if profile.get("login_session").is_some() {
            Self::Login(name)
        } else {
            Self::Other
        }
    }
}

/// Names the cause of `err`, the failure of the provider chain for
/// `profile`'s `source`; `None` when no source was configured at all.
pub fn explain(err: &CredentialsError, profile: &str, source: Source) -> Option<CredentialsProblem> {
    if matches!(err, CredentialsError::CredentialsNotLoaded(_)) {
        // Nothing anywhere in the chain: "no credentials" is the truth.
        return None;
    }
    if let CredentialsError::InvalidConfiguration(_) = err {
        // The profile could not be turned into a provider: a source that is
        // unknown or not compiled in. The SDK's text says which.
        let why = match &source {
            Source::Named(_, name) => {
                format!("credential_source = {name} (ddns-ctl knows Environment, Ec2InstanceMetadata and EcsContainer)")
            }
            _ => innermost(err)
                .trim_start_matches("ProfileFile provider could not be built: ")
                .to_owned(),
        };
        return Some(CredentialsProblem::Unsupported {
            profile: profile.to_owned(),
            why,
        });
    }
    // A cached token that is expired (an access-token error), not there (a
    // missing file) or that the SSO portal no longer takes (a profile
    // without `sso_session` sends its token unchecked) is fixed by logging
    // in again; a network or service failure is not, and keeps the SDK's
    // own words.
    let token_or_cache = chain(err).any(|e| {
        e.downcast_ref::<TokenError>().is_some()
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
            || e.downcast_ref::<GetRoleCredentialsError>()
                .is_some_and(GetRoleCredentialsError::is_unauthorized_exception)
    });
    // The login provider maps every fault of its cached token (missing,
    // unreadable, expired) to `Unhandled`, and a failed refresh to
    // `ProviderError`.
    let login_cache = chain(err).any(|e| matches!(e.downcast_ref(), Some(CredentialsError::Unhandled(_))));
    match source {
        Source::Sso(profile) if token_or_cache => Some(CredentialsProblem::SsoSession { profile }),
        Source::Login(profile) if token_or_cache || login_cache => Some(CredentialsProblem::LoginSession { profile }),
        _ => Some(CredentialsProblem::Failed {
            profile: profile.to_owned(),
            cause: innermost(err),
        }),
    }
}

fn chain<'a>(err: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e| e.source())
}

fn innermost(err: &(dyn StdError + 'static)) -> String {
    chain(err).last().map(ToString::to_string).unwrap_or_default()
}

/// The SDK's credentials provider, whose failure names its cause (see
/// [`explain`]).
#[derive(Debug)]
pub struct Explaining {
    inner: SharedCredentialsProvider,
    profile: String,
}

impl Explaining {
    /// Wraps `inner`, which loads credentials for `profile`.
    pub fn new(inner: SharedCredentialsProvider, profile: String) -> Self {
        Self { inner, profile }
    }
}

impl ProvideCredentials for Explaining {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            match self.inner.provide_credentials().await {
                Ok(credentials) => Ok(credentials),
                Err(err) => {
                    // The profile is read only on failure: a working chain
                    // costs nothing more.
                    let source = Source::of_profile(&self.profile).await;
                    Err(match explain(&err, &self.profile, source) {
                        Some(problem) => CredentialsError::provider_error(Explained { problem, source: err }),
                        None => err,
                    })
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_runtime::env_config::file::EnvConfigFileKind;

    use super::*;

    async fn set(config: &str) -> ProfileSet {
        let fs = Fs::from_slice(&[("/config", config)]);
        let env = Env::from_slice(&[("HOME", "/home")]);
        let files = EnvConfigFiles::builder()
            .with_file(EnvConfigFileKind::Config, "/config")
            .build();
        aws_config::profile::load(&fs, &env, &files, None).await.unwrap()
    }

    #[tokio::test]
    async fn the_base_source_is_found_through_source_profile() {
        let set = set(
            "[sso-session corp]\nsso_start_url = https://x\nsso_region = us-east-1\n\
             [profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n\
             [profile chained]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = sso\n\
             [profile web]\nlogin_session = arn:aws:iam::1:user/u\n\
             [profile named]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = Bogus\n\
             [profile keys]\naws_access_key_id = a\naws_secret_access_key = b\n",
        )
        .await;
        assert_eq!(Source::in_set(&set, "sso"), Source::Sso("sso".into()));
        assert_eq!(Source::in_set(&set, "chained"), Source::Sso("sso".into()));
        assert_eq!(Source::in_set(&set, "web"), Source::Login("web".into()));
        assert_eq!(
            Source::in_set(&set, "named"),
            Source::Named("named".into(), "Bogus".into())
        );
        assert_eq!(Source::in_set(&set, "keys"), Source::Other);
        assert_eq!(Source::in_set(&set, "absent"), Source::Other);
        assert_eq!(
            Source::in_set(&set, "corp"),
            Source::Other,
            "an sso-session is not a profile"
        );
    }

    #[test]
    fn nothing_found_stays_nothing_found_and_a_network_failure_keeps_its_words() {
        let sso = || Source::Sso("x".into());
        let none = CredentialsError::not_loaded("no providers in chain provided credentials");
        assert_eq!(explain(&none, "x", sso()), None);
        let network = CredentialsError::provider_error("connection refused");
        assert_eq!(
            explain(&network, "x", sso()),
            Some(CredentialsProblem::Failed {
                profile: "x".into(),
                cause: "connection refused".into()
            })
        );
    }

    #[test]
    fn an_unusable_source_is_named() {
        let err = CredentialsError::invalid_configuration(
            "ProfileFile provider could not be built: This behavior requires following cargo feature(s) enabled: credentials-login.",
        );
        let problem = explain(&err, "y", Source::Login("y".into())).unwrap();
        assert_eq!(
            problem.to_string(),
            "profile `y` uses a credential source ddns-ctl cannot use: This behavior requires following cargo feature(s) enabled: credentials-login."
        );
    }
}
