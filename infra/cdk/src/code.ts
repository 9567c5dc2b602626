/**
 * Where the hydrator's code comes from when no `code` prop is given: the
 * cargo-lambda build output of the repository this package lives in.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** `target/lambda/hydrate`, from `dist/src/` up to the repository's root. */
export const DEFAULT_CODE_DIRECTORY = path.resolve(__dirname, '..', '..', '..', '..', 'target', 'lambda', 'hydrate');

/**
 * The cargo-lambda output (`cargo lambda build --release --arm64 --bin hydrate`)
 * as an asset. Fails at synthesis with the command to run when it is missing,
 * rather than deploying a function without its binary.
 */
export function cargoLambdaOutput(directory: string = DEFAULT_CODE_DIRECTORY): lambda.Code {
  if (!fs.existsSync(path.join(directory, 'bootstrap'))) {
    throw new Error(
      `hydrator: no bootstrap in ${directory}; run \`cargo lambda build --release --arm64 --bin hydrate\` ` +
        'first, or give the Hydrator a `code` prop',
    );
  }
  return lambda.Code.fromAsset(directory);
}
