//! `hydrator`: parses the command line and runs one command; the commands
//! live in the library.

use std::process::ExitCode;

use clap::Parser;
use hydrator_cli::args::{Cli, Command, DlqCommand};
use hydrator_cli::commands::{dlq, hydrate, redrive, replay, report, show, stats};
use hydrator_cli::sources::queue::DlqClients;
use hydrator_cli::{sdk_config, Outcome};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Replay(args) => replay::run(sdk, args, format).await,
        Command::Redrive(args) => {
            redrive::run(sdk, args, format, ::hydrate::Backoff::default()).await
        }
        Command::Show(args) => show::run(args, format),
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
