//! `hydrator`: parses the command line and runs one command; the commands
//! live in the library.

use std::process::ExitCode;

use clap::Parser;
use hydrator_cli::args::{Cli, Command, DlqCommand};
use hydrator_cli::{
    dlq, html_report, hydrate_file, redrive, replay, sdk_config, show, stats, Outcome,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.global.output;
    let sdk = sdk_config(&cli.global).await;
    let result = match &cli.command {
        Command::Hydrate(args) => hydrate_file::run(sdk, args, format).await,
        Command::Dlq(DlqCommand::List(args)) => {
            dlq::list(&dlq::DlqClients::new(&sdk), args, format).await
        }
        Command::Dlq(DlqCommand::Drain(args)) => {
            dlq::drain(&dlq::DlqClients::new(&sdk), args, format).await
        }
        Command::Dlq(DlqCommand::Stats(args)) => stats::run(&sdk, args, format).await,
        Command::Dlq(DlqCommand::Report(args)) => html_report::run(&sdk, args, format).await,
        Command::Replay(args) => replay::run(sdk, args, format).await,
        Command::Redrive(args) => {
            redrive::run(sdk, args, format, hydrate::Backoff::default()).await
        }
        Command::Show(args) => show::run(args, format),
        Command::Doctor(args) => hydrator_cli::doctor::run(&sdk, args, format).await,
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
