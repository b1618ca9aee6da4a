//! Links the `gen-manifests` binary at a fixed address (`-no-pie`) on
//! Linux: a position-independent executable of this size has some 20,000
//! relocations that the loader applies at every start, a fifth of the
//! default bundle's run time (`make bench`). The library is unaffected.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let gnu = std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    if linux && gnu {
        println!("cargo:rustc-link-arg-bin=gen-manifests=-no-pie");
    }
}
