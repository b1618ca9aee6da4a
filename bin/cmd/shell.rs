//! `completions` and `man`: the command line described for shells and man.

use anyhow::Context;
use clap_complete::Shell;
use custom_metrics_manifests::ExitStatus;

use crate::common::print;

/// The completion script of `command` for `shell`.
pub fn completions(shell: Shell, mut command: clap::Command) -> anyhow::Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "gen-manifests", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == Shell::Bash {
        // clap_complete 4.6 names the subcommands' cases
        // `gen__subcmd__manifests__subcmd__lint` but sets `cmd` to
        // `gen__manifests__subcmd__lint` for a hyphenated binary, so no
        // subcommand option would complete (tests/integrations.rs).
        script = script.replace("gen__subcmd__manifests", "gen__manifests");
    }
    print(&script)?;
    Ok(ExitStatus::Success)
}

/// The man page (roff) of `command`.
pub fn man(command: clap::Command) -> anyhow::Result<ExitStatus> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .context("cannot render the man page")?;
    print(&String::from_utf8_lossy(&page))?;
    Ok(ExitStatus::Success)
}
