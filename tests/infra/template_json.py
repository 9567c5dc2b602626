"""Print a CloudFormation/SAM template as JSON, read with cfn-lint's own parser
(which understands the short intrinsic forms such as !Ref and !If).

Usage: template_json.py TEMPLATE
"""
import json
import sys

from cfnlint.decode import decode


def main(path: str) -> None:
    template, matches = decode(path)
    if matches:
        for match in matches:
            print(match, file=sys.stderr)
        sys.exit(1)
    print(json.dumps(template))


if __name__ == "__main__":
    main(sys.argv[1])
