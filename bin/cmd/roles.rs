//! `roles`: Prometheus' `prometheus-k8s` RoleBinding and Role per
//! namespace, printed flat or patched into kube-prometheus' list files.

use std::path::PathBuf;

use clap::Args;
use custom_metrics_manifests::{kube_prometheus, render, ExitStatus};

use crate::common::{print, InputArgs};

#[derive(Args)]
pub struct RolesArgs {
    /// A namespace Prometheus must discover pods in (repeatable).
    #[arg(long = "namespace", value_name = "NS", required = true)]
    namespaces: Vec<String>,
    /// Append the missing items to the two list files in DIR (a
    /// kube-prometheus `manifests/` directory) in place, instead of printing
    /// flat objects.
    #[arg(long, value_name = "DIR")]
    patch: Option<PathBuf>,
    /// With --patch: write nothing; print the diff and exit 1 if a patch is
    /// needed, exit 0 if not.
    #[arg(long, requires = "patch")]
    check: bool,
}

pub fn run(args: &RolesArgs, input: &InputArgs) -> anyhow::Result<ExitStatus> {
    let config = kube_prometheus::roles_config(input.load()?, &args.namespaces)?;
    let Some(dir) = &args.patch else {
        let manifests = render::prometheus_access(config.prometheus());
        print(&render::to_yaml(&manifests))?;
        return Ok(ExitStatus::Success);
    };
    let patch = kube_prometheus::patch_in_place(dir, &config, &input.files(), args.check)?;
    if args.check {
        print(&patch.diff())?;
        return Ok(if patch.changed() {
            ExitStatus::Found
        } else {
            ExitStatus::Success
        });
    }
    let report: String = patch
        .files()
        .iter()
        .map(|file| match file.added.as_slice() {
            [] => format!("{}: unchanged\n", file.path.display()),
            added => format!("{}: added {}\n", file.path.display(), added.join(", ")),
        })
        .collect();
    print(&report)?;
    Ok(ExitStatus::Success)
}
