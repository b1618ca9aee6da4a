//! kube-prometheus integration: the `prometheus-k8s` Role and RoleBinding
//! items for app namespaces (`gen-manifests roles`).
//!
//! ```
//! use custom_metrics_manifests::{kube_prometheus, preset::Preset};
//!
//! let config = kube_prometheus::roles_config(Preset::Documented.config(), &["my-app".into()]).unwrap();
//! assert_eq!(config.prometheus.namespaces.len(), 1);
//! assert!(kube_prometheus::roles_config(Preset::Documented.config(), &["My_App".into()]).is_err());
//! ```

use crate::config::Config;
use crate::values::Name;
use crate::Error;

/// `config` with Prometheus' namespaces replaced by `namespaces`, each
/// checked as a DNS-1123 label; repeats are dropped.
pub fn roles_config(mut config: Config, namespaces: &[String]) -> Result<Config, Error> {
    let mut names: Vec<Name> = Vec::new();
    for namespace in namespaces {
        let name: Name = namespace
            .parse()
            .map_err(|message| Error::Usage(format!("--namespace: {message}")))?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    config.prometheus.namespaces = names;
    Ok(config)
}
