//! Turning a [`Config`] into the ordered list of objects, and the objects
//! into the exact bytes written: multi-document YAML or a JSON `v1 List`.
//! Every object is flat: no `RoleList`/`RoleBindingList` inside, which
//! `kubectl apply -f -` (`no Items field`) and kpt (`resource must have
//! metadata.name`) refuse; the list files of kube-prometheus are only
//! written by `roles --patch` ([`crate::kube_prometheus`]).
//!
//! The order is the guide's (ServiceAccount and RBAC, ConfigMap,
//! Deployment, Service, APIService last among the adapter's objects), then
//! Prometheus' Role items, then each app's ServiceMonitor and HPA. Output is
//! byte-for-byte deterministic: every map is a `BTreeMap`.
//!
//! ```
//! use custom_metrics_manifests::{Preset, render, Config};
//!
//! let manifests = render::manifests(&Config::from_preset(Preset::Documented));
//! assert_eq!(manifests.len(), 11);
//! let yaml = render::to_yaml(&manifests);
//! assert!(yaml.starts_with("apiVersion: v1\nkind: ServiceAccount\n"));
//! assert_eq!(yaml, render::to_yaml(&render::manifests(&Config::from_preset(Preset::Documented))));
//! ```

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use k8s_openapi::{Metadata, Resource};
use serde::{Serialize, Serializer};

use crate::config::Config;
use crate::keda::{ScaledObject, TriggerAuthentication};
use crate::monitoring::{PodMonitor, ServiceMonitor};
use crate::spec::{Backend, MonitorKind, TlsMode};
use crate::tls::{Certificate, Issuer};
use crate::{autoscaling, monitoring, network, rbac, tls, workload};

/// One emitted object.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Manifest {
    /// The adapter's ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// A ClusterRole.
    ClusterRole(ClusterRole),
    /// A ClusterRoleBinding.
    ClusterRoleBinding(ClusterRoleBinding),
    /// A RoleBinding.
    RoleBinding(RoleBinding),
    /// A Role (Prometheus' `prometheus-k8s` Role in an app namespace).
    Role(Role),
    /// The adapter's ConfigMap.
    ConfigMap(ConfigMap),
    /// cert-manager Issuer.
    Issuer(Issuer),
    /// cert-manager Certificate.
    Certificate(Certificate),
    /// The adapter's Deployment (boxed: it is three times the size of any
    /// other object, and objects are moved as they stream).
    Deployment(Box<Deployment>),
    /// The adapter's PodDisruptionBudget.
    PodDisruptionBudget(PodDisruptionBudget),
    /// The adapter's Service.
    Service(Service),
    /// The custom metrics APIService.
    APIService(APIService),
    /// An app's ServiceMonitor.
    ServiceMonitor(ServiceMonitor),
    /// An app's PodMonitor.
    PodMonitor(PodMonitor),
    /// An app's HPA.
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    /// KEDA's credentials for Prometheus in an app namespace.
    TriggerAuthentication(TriggerAuthentication),
    /// An app's KEDA ScaledObject.
    ScaledObject(ScaledObject),
}

macro_rules! each_variant {
    ($value:expr, $object:ident => $body:expr) => {
        each_variant!($value, $object => $body, std::ops::Deref::deref)
    };
    (mut $value:expr, $object:ident => $body:expr) => {
        each_variant!($value, $object => $body, std::ops::DerefMut::deref_mut)
    };
    ($value:expr, $object:ident => $body:expr, $deref:path) => {
        match $value {
            Manifest::ServiceAccount($object) => $body,
            Manifest::ClusterRole($object) => $body,
            Manifest::ClusterRoleBinding($object) => $body,
            Manifest::RoleBinding($object) => $body,
            Manifest::Role($object) => $body,
            Manifest::ConfigMap($object) => $body,
            Manifest::Issuer($object) => $body,
            Manifest::Certificate($object) => $body,
            Manifest::Deployment(boxed) => {
                let $object = $deref(boxed);
                $body
            }
            Manifest::PodDisruptionBudget($object) => $body,
            Manifest::Service($object) => $body,
            Manifest::APIService($object) => $body,
            Manifest::ServiceMonitor($object) => $body,
            Manifest::PodMonitor($object) => $body,
            Manifest::HorizontalPodAutoscaler($object) => $body,
            Manifest::TriggerAuthentication($object) => $body,
            Manifest::ScaledObject($object) => $body,
        }
    };
}

fn kind_of<T: Resource>(_: &T) -> &'static str {
    T::KIND
}

fn api_version_of<T: Resource>(_: &T) -> &'static str {
    T::API_VERSION
}

impl Manifest {
    /// The object's `kind`.
    pub fn kind(&self) -> &'static str {
        each_variant!(self, object => kind_of(object))
    }

    /// The object's `apiVersion`.
    pub fn api_version(&self) -> &'static str {
        each_variant!(self, object => api_version_of(object))
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        each_variant!(self, object => Metadata::metadata(object))
    }

    /// The object's metadata, to change (annotations for the KRM function).
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        each_variant!(mut self, object => Metadata::metadata_mut(object))
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }

    /// The object's namespace, if namespaced.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// `Kind namespace/name`, for messages.
    pub fn display_name(&self) -> String {
        match self.namespace() {
            Some(namespace) => format!("{} {namespace}/{}", self.kind(), self.name()),
            None => format!("{} {}", self.kind(), self.name()),
        }
    }
}

impl Serialize for Manifest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each_variant!(self, object => object.serialize(serializer))
    }
}

/// Every object `config` describes, in apply order. With the `keda`
/// backend: no adapter bundle, only what the apps need.
pub fn manifests(config: &Config) -> Vec<Manifest> {
    objects(config).collect()
}

/// The objects of [`manifests`], built one at a time as they are taken, so
/// that writing them ([`write_yaml`], [`write_json`]) holds one object in
/// memory, not one per app.
///
/// ```
/// use custom_metrics_manifests::{render, Config, Preset};
///
/// let config = Config::from_preset(Preset::Documented);
/// let mut out = Vec::new();
/// render::write_yaml(render::objects(&config), &mut out).unwrap();
/// assert_eq!(out, render::to_yaml(&render::manifests(&config)).into_bytes());
/// assert_eq!(render::objects(&config).count(), 11);
/// ```
pub fn objects(config: &Config) -> impl Iterator<Item = Manifest> + '_ {
    let bundle = (config.backend != Backend::Keda).then(|| adapter_bundle(config));
    bundle.into_iter().flatten().chain(app_objects(config))
}

/// The adapter's own objects (a dozen, whatever the number of apps), each
/// built as it is taken: one object and its text in memory at a time.
fn adapter_bundle(config: &Config) -> AdapterBundle<'_> {
    // `config.yaml` serialized once: the ConfigMap holds it, the
    // Deployment's pod annotation is its checksum.
    let config_yaml = config.adapter_config.to_yaml();
    let checksum = crate::adapter_config::checksum_of(&config_yaml);
    AdapterBundle {
        adapter: &config.adapter,
        step: 0,
        config_yaml,
        checksum,
    }
}

/// [`adapter_bundle`]'s iterator: one step per object, in apply order. A
/// `match` rather than a chain of iterators, whose nested `next` calls
/// would each reserve stack for every object (200 KB, 50 page faults).
struct AdapterBundle<'a> {
    adapter: &'a crate::config::Adapter,
    step: u8,
    config_yaml: String,
    checksum: String,
}

impl Iterator for AdapterBundle<'_> {
    type Item = Manifest;

    fn next(&mut self) -> Option<Manifest> {
        let adapter = self.adapter;
        loop {
            self.step += 1;
            // Steps that yield nothing (no cert-manager, one replica) are skipped.
            let manifest = match self.step {
                1 => Manifest::ServiceAccount(rbac::service_account(adapter)),
                2 => Manifest::ClusterRoleBinding(rbac::auth_delegator_binding(adapter)),
                3 => Manifest::ClusterRoleBinding(rbac::resource_reader_binding(adapter)),
                4 => Manifest::ClusterRole(rbac::resource_reader_role(adapter)),
                5 => Manifest::RoleBinding(rbac::auth_reader_binding(adapter)),
                6 => Manifest::ConfigMap(workload::config_map(
                    adapter,
                    std::mem::take(&mut self.config_yaml),
                )),
                7 | 8 if adapter.tls.mode != TlsMode::CertManager => continue,
                7 => match tls::issuer(adapter) {
                    Some(issuer) => Manifest::Issuer(issuer),
                    None => continue,
                },
                8 => Manifest::Certificate(tls::certificate(adapter)),
                9 => Manifest::Deployment(Box::new(workload::deployment(
                    adapter,
                    std::mem::take(&mut self.checksum),
                ))),
                10 => match workload::pod_disruption_budget(adapter) {
                    Some(budget) => Manifest::PodDisruptionBudget(budget),
                    None => continue,
                },
                11 => Manifest::Service(network::service(adapter)),
                12 => Manifest::ClusterRole(rbac::server_resources_role(adapter)),
                13 => Manifest::ClusterRoleBinding(rbac::hpa_controller_binding(adapter)),
                14 => Manifest::APIService(network::api_service(adapter)),
                _ => {
                    self.step = 14;
                    return None;
                }
            };
            return Some(manifest);
        }
    }
}

/// Prometheus' RoleBinding and Role in each of its namespaces, flat: the
/// RoleBindings first, then the Roles, in the order of kube-prometheus'
/// two list files (which only `roles --patch` writes). Nothing when the
/// stack's Prometheus reads every namespace through a ClusterRole
/// (kube-prometheus-stack, operator).
pub fn prometheus_access(prometheus: &crate::config::Prometheus) -> Vec<Manifest> {
    prometheus_access_objects(prometheus).collect()
}

/// [`prometheus_access`], built one at a time.
fn prometheus_access_objects(
    prometheus: &crate::config::Prometheus,
) -> impl Iterator<Item = Manifest> + '_ {
    let namespaces = move || {
        let all = if prometheus.facts.namespace_roles {
            prometheus.namespaces.as_slice()
        } else {
            &[]
        };
        all.iter().map(|namespace| namespace.as_str())
    };
    namespaces()
        .map(|namespace| {
            Manifest::RoleBinding(rbac::prometheus_role_binding(prometheus, namespace))
        })
        .chain(
            namespaces()
                .map(|namespace| Manifest::Role(rbac::prometheus_role(prometheus, namespace))),
        )
}

/// What the apps need beyond the adapter: Prometheus' Role items, then
/// each app's ServiceMonitor and HPA; with the `keda` backend the
/// TriggerAuthentications, then each app's ServiceMonitor and ScaledObject.
pub fn app_manifests(config: &Config) -> Vec<Manifest> {
    app_objects(config).collect()
}

/// [`app_manifests`], built one at a time.
fn app_objects(config: &Config) -> impl Iterator<Item = Manifest> + '_ {
    let keda = config.backend == Backend::Keda;
    let authentications = if keda {
        crate::keda::trigger_authentications(config)
    } else {
        Vec::new()
    };
    prometheus_access_objects(&config.prometheus)
        .chain(
            authentications
                .into_iter()
                .map(Manifest::TriggerAuthentication),
        )
        .chain(config.apps.iter().flat_map(move |app| {
            let monitor = move || match app.monitor {
                MonitorKind::ServiceMonitor => {
                    Manifest::ServiceMonitor(monitoring::service_monitor(app))
                }
                MonitorKind::PodMonitor => Manifest::PodMonitor(monitoring::pod_monitor(app)),
            };
            let scaler = move || {
                if keda {
                    Manifest::ScaledObject(crate::keda::scaled_object(config, app))
                } else {
                    Manifest::HorizontalPodAutoscaler(autoscaling::horizontal_pod_autoscaler(app))
                }
            };
            std::iter::once_with(monitor).chain(std::iter::once_with(scaler))
        }))
}

/// The YAML writer's options: multi-line strings (`config.yaml`) as literal
/// blocks, nothing folded, YAML 1.1 look-alikes (`yes`, `on`, `0755`) quoted.
fn yaml_options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        prefer_block_scalars: true,
        folded_wrap_chars: usize::MAX,
    }
}

/// One YAML document.
pub fn to_yaml_document<T: Serialize>(object: &T) -> String {
    serde_saphyr::to_string_with_options(object, yaml_options())
        .expect("manifests serialize to YAML")
}

/// A multi-document YAML stream, documents separated by `---`.
pub fn to_yaml(manifests: &[Manifest]) -> String {
    let mut out = Vec::new();
    write_yaml(manifests, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("YAML is UTF-8")
}

/// Writes `manifests` to `out` as [`to_yaml`] does, one document at a
/// time: memory holds the object being written and its text, not the
/// whole stream. Wrap an unbuffered `out` (a file, standard output) in a
/// [`std::io::BufWriter`].
pub fn write_yaml<M: std::borrow::Borrow<Manifest>>(
    manifests: impl IntoIterator<Item = M>,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    let options = yaml_options();
    // One buffer for every document: its capacity is reused.
    let mut document = String::new();
    for (index, manifest) in manifests.into_iter().enumerate() {
        document.clear();
        if index > 0 {
            document.push_str("---\n");
        }
        serde_saphyr::to_fmt_writer_with_options(&mut document, manifest.borrow(), options.clone())
            .expect("manifests serialize to YAML");
        out.write_all(document.as_bytes())?;
    }
    Ok(())
}

/// A `v1` `List` holding the objects, as pretty JSON with a final newline.
pub fn to_json(manifests: &[Manifest]) -> String {
    let mut out = Vec::new();
    write_json(manifests, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes `manifests` to `out` as [`to_json`] does, each item serialized as
/// it is taken from the iterator. Wrap an unbuffered `out` in a
/// [`std::io::BufWriter`].
pub fn write_json<M: std::borrow::Borrow<Manifest>>(
    manifests: impl IntoIterator<Item = M>,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    /// The items, taken once while the list serializes.
    struct Items<I>(std::cell::RefCell<Option<I>>);
    impl<M: std::borrow::Borrow<Manifest>, I: Iterator<Item = M>> Serialize for Items<I> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let items = self.0.borrow_mut().take().into_iter().flatten();
            serializer.collect_seq(items.map(|item| ItemRef(item)))
        }
    }
    /// One item, serialized through its borrow.
    struct ItemRef<M>(M);
    impl<M: std::borrow::Borrow<Manifest>> Serialize for ItemRef<M> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0.borrow().serialize(serializer)
        }
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ObjectList<I> {
        api_version: &'static str,
        kind: &'static str,
        items: I,
    }
    let list = ObjectList {
        api_version: "v1",
        kind: "List",
        items: Items(std::cell::RefCell::new(Some(manifests.into_iter()))),
    };
    serde_json::to_writer_pretty(&mut out, &list)?;
    out.write_all(b"\n")
}
