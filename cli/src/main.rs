//! `hydrator`: parses the command line and runs one command; the commands
//! live in the library.

use std::process::ExitCode;

use clap::Parser;
use hydrator_cli::args::{Cli, Command, DlqCommand, FailuresCommand};
use hydrator_cli::commands::{
    dlq, doctor, failures, hydrate, redrive, replay, report, show, stats,
};
use hydrator_cli::sources::queue::DlqClients;
use hydrator_cli::{sdk_config, target_config, Outcome};

/// sysexits.h's EX_USAGE: the command line was wrong.
const USAGE_ERROR: u8 = 64;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to standard output and are not errors;
            // anything else is a usage error, with a code of its own so a
            // script never takes it for "ran, some items not done" (2).
            let code = if error.use_stderr() { USAGE_ERROR } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let format = cli.global.output;
    let sdk = sdk_config(&cli.global).await;
    let result = match &cli.command {
        Command::Hydrate(args) => hydrate::run(sdk, args, format).await,
        Command::Dlq(DlqCommand::List(args)) => {
            dlq::list(&DlqClients::new(&sdk), args, format).await
        }
        Command::Dlq(DlqCommand::Drain(args)) => {
            dlq::drain(&DlqClients::new(&sdk), args, format).await
        }
        Command::Dlq(DlqCommand::Stats(args)) => stats::run(&sdk, args, format).await,
        Command::Dlq(DlqCommand::Report(args)) => report::run(&sdk, args, format).await,
        Command::Replay(args) => {
            let target = target_config(&cli.global, &args.target).await;
            replay::run(target, args, format).await
        }
        Command::Redrive(args) => {
            let target = target_config(&cli.global, &args.target).await;
            redrive::run(target, args, format, ::hydrate::Backoff::default()).await
        }
        Command::Show(args) => show::run(&sdk, args, format).await,
        Command::Doctor(args) => doctor::run(&sdk, args, format).await,
        Command::Failures(FailuresCommand::List(args)) => {
            failures::list(&DlqClients::new(&sdk), args, format).await
        }
        Command::Failures(FailuresCommand::Retry(args)) => {
            failures::retry(&sdk, args, format).await
        }
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Incomplete) => ExitCode::from(2),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
