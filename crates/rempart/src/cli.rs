//! The command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Rempart: a helpline platform for minors who suffer digital violence.
#[derive(Parser)]
#[command(name = "rempart", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Start the whole service on an embedded SQLite database with demo data (seeded once).
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Folder for the database.
        #[arg(long, default_value = "rempart-demo")]
        data_dir: PathBuf,
    },
    /// Start the service (database chosen by URL: sqlite://… or postgres://…).
    Serve {
        /// TOML configuration file (see `rempart config example`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Staff accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Evidence exports: check one, print the key they are signed with.
    #[command(subcommand)]
    Evidence(EvidenceCmd),
    /// Benchmarks.
    Bench(crate::bench::BenchArgs),
    /// PDQ perceptual hashes: hash image files, match hashes against a bank.
    #[command(subcommand)]
    Pdq(crate::cmd_pdq::PdqCmd),
    /// The chat's risk detector: check messages, evaluate it on a labelled set.
    #[command(subcommand)]
    Risk(crate::cmd_risk::RiskCmd),
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create an account; the password is read from standard input (never from arguments).
    Add {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// counsellor, psychologist, lawyer, digital_specialist, supervisor or admin.
        #[arg(long)]
        role: String,
        /// Team.
        #[arg(long)]
        team: Option<String>,
        /// Language (fr, en).
        #[arg(long, default_value = "fr")]
        lang: String,
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Print a documented example configuration.
    Example,
}

#[derive(Subcommand)]
pub enum EvidenceCmd {
    /// Check an evidence export (a zip, or the folder it was unpacked into): the manifest's
    /// Ed25519 signature by the helpline's key, and every file against the manifest; names
    /// every altered, missing or added file. Exit status 1 when anything is wrong.
    Verify {
        /// The export.
        export: PathBuf,
        /// The helpline's public key, hex (as `rempart evidence public-key` prints it);
        /// without it, the key of this node's master secret.
        #[arg(long)]
        public_key: Option<String>,
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// A data folder (like the demo's): its master key.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print the public key evidence exports are signed with (to give to the police and
    /// partners who check them).
    PublicKey {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// A data folder (like the demo's).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Walk the keyed hash chain and report any modified, inserted or deleted event, and
    /// any anchored head the chain no longer holds (a cut tail).
    Verify {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// A data folder (like the demo's): its database and master key.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A file of heads recorded by `audit anchor`.
        #[arg(long)]
        anchor: Option<PathBuf>,
    },
    /// Record the chain's head outside the database: append it to FILE (kept elsewhere,
    /// or shipped), or print it for a log shipper.
    Anchor {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// A data folder (like the demo's).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Append here instead of printing.
        file: Option<PathBuf>,
    },
    /// The hash under which the words of a case search are audited (to check whether an
    /// account searched for them).
    SearchHash {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// A data folder (like the demo's).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The words.
        words: String,
    },
}
