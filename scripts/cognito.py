#!/usr/bin/env python3
"""Amazon Cognito emulation for `make dev` and `make test`: seeds moto's Cognito and gets tokens.

    cognito.py seed  --out .local/cognito.json
    cognito.py token [--user alice] [--client main|other|<client id>] [--kind access|id|refresh]
                     [--config .local/cognito.json]

Talks to moto's server only: the endpoint is $AWS_ENDPOINT_URL (set by start_moto in
scripts/common.sh) or, for `token`, the endpointUrl that `seed` wrote into the config file.
It refuses to run without one, so it never reaches a real AWS account. The passwords below are
fixed dev fixtures for that local emulator, not secrets.

`seed` is idempotent: it reuses the pool, app clients, groups and users it finds by name.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path

POOL_NAME = "mcp-gateway-dev"
CLIENT_NAME = "mcp-gateway-dev-client"
OTHER_CLIENT_NAME = "other-client"
AUTH_FLOWS = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
READ_ATTRIBUTES = ["email", "email_verified"]
# The demo organisation of config/demo-org.yaml (seeded into DynamoDB by `make dev`): alice
# sees every demo tool, bob calculate and current_time, carol only current_time. `sales` has
# no policy of its own.
GROUPS = ["engineering", "finance", "admins", "sales"]
# username -> (password, email, groups)
USERS = {
    "alice": ("Alice-Passw0rd!", "alice@example.com", ["engineering", "admins"]),
    "bob": ("Bob-Passw0rd!", "bob@example.com", ["finance"]),
    "carol": ("Carol-Passw0rd!", "carol@example.com", []),
}
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / ".local" / "cognito.json"


def die(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def client_for(endpoint: str | None, region: str):
    if not endpoint:
        die("no emulator endpoint: set AWS_ENDPOINT_URL (start_moto) or run `seed` first")
    # Emulated AWS only: dummy credentials unless the caller set some.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    import boto3  # the venv's; imported late so `--help` works anywhere
    from botocore.config import Config

    # A local emulator answers at once or not at all: fail fast when it is not running.
    config = Config(connect_timeout=3, read_timeout=30, retries={"mode": "standard", "max_attempts": 2})
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=region, config=config)


def find_pool(idp, name: str) -> str | None:
    for page in idp.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                return pool["Id"]
    return None


def find_client(idp, pool_id: str, name: str) -> str | None:
    for page in idp.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60):
        for client in page["UserPoolClients"]:
            if client["ClientName"] == name:
                return client["ClientId"]
    return None


def ensure_client(idp, pool_id: str, name: str) -> str:
    # moto puts into id tokens only the attributes a client may read (real Cognito: all of them).
    settings = {"ExplicitAuthFlows": AUTH_FLOWS, "ReadAttributes": READ_ATTRIBUTES}
    client_id = find_client(idp, pool_id, name)
    if client_id:
        idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ClientName=name, **settings)
        return client_id
    return idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName=name, GenerateSecret=False, **settings
    )["UserPoolClient"]["ClientId"]


def seed(args: argparse.Namespace) -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    idp = client_for(endpoint, region)

    pool_id = find_pool(idp, POOL_NAME)
    if pool_id:
        print(f"reusing user pool {POOL_NAME} ({pool_id})", file=sys.stderr)
    else:
        pool_id = idp.create_user_pool(
            PoolName=POOL_NAME,
            Policies={"PasswordPolicy": {"MinimumLength": 8}},
            AutoVerifiedAttributes=["email"],
        )["UserPool"]["Id"]
        print(f"created user pool {POOL_NAME} ({pool_id})", file=sys.stderr)

    client_id = ensure_client(idp, pool_id, CLIENT_NAME)
    other_client_id = ensure_client(idp, pool_id, OTHER_CLIENT_NAME)

    for group in GROUPS:
        try:
            idp.create_group(UserPoolId=pool_id, GroupName=group)
        except idp.exceptions.GroupExistsException:
            pass

    for username, (password, email, groups) in USERS.items():
        try:
            idp.admin_create_user(
                UserPoolId=pool_id,
                Username=username,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
        except idp.exceptions.UsernameExistsException:
            pass
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
        idp.admin_enable_user(UserPoolId=pool_id, Username=username)
        have = {g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]}
        for group in groups:
            if group not in have:
                idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
        for group in have - set(groups):
            idp.admin_remove_user_from_group(UserPoolId=pool_id, Username=username, GroupName=group)

    endpoint = endpoint.rstrip("/")
    config = {
        "region": region,
        "userPoolId": pool_id,
        "clientId": client_id,
        "otherClientId": other_client_id,
        "issuer": f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        "jwksUrl": f"{endpoint}/{pool_id}/.well-known/jwks.json",
        "openidConfigurationUrl": f"{endpoint}/{pool_id}/.well-known/openid-configuration",
        "endpointUrl": endpoint,
        "users": {name: password for name, (password, _, _) in USERS.items()},
    }

    # The JWKS must really be served where the config says.
    with urllib.request.urlopen(config["jwksUrl"], timeout=10) as resp:
        jwks = json.load(resp)
    if not jwks.get("keys"):
        die(f"{config['jwksUrl']} served no keys: {jwks}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(config, indent=2) + "\n")
    print(f"seeded Cognito pool {pool_id} (clients {client_id}, {other_client_id}) -> {out}", file=sys.stderr)


def token(args: argparse.Namespace) -> None:
    path = Path(args.config)
    if not path.exists():
        die(f"{path} not found: run `make dev` (it seeds Cognito) first")
    config = json.loads(path.read_text())
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or config.get("endpointUrl")
    idp = client_for(endpoint, config["region"])

    client_id = {"main": config["clientId"], "other": config["otherClientId"]}.get(args.client, args.client)
    password = config["users"].get(args.user)
    if password is None:
        die(f"unknown user {args.user!r}; seeded users: {', '.join(config['users'])}")
    try:
        result = idp.admin_initiate_auth(
            UserPoolId=config["userPoolId"],
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": args.user, "PASSWORD": password},
        )
    except Exception as err:  # noqa: BLE001 - a connection refused here means moto is not running
        die(f"AdminInitiateAuth against {endpoint} failed (is `make dev` running?): {err}")
    auth = result.get("AuthenticationResult")
    if not auth:
        die(f"no tokens, challenge {result.get('ChallengeName')!r}")
    key = {"access": "AccessToken", "id": "IdToken", "refresh": "RefreshToken"}[args.kind]
    print(auth[key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("seed", help="create (or reuse) the dev user pool, clients, groups and users")
    p.add_argument("--out", default=str(DEFAULT_CONFIG), help="where to write the JSON config")
    p.set_defaults(func=seed)

    p = sub.add_parser("token", help="AdminInitiateAuth as a seeded user and print one token")
    p.add_argument("--user", default="alice")
    p.add_argument("--client", default="main", help="main, other, or an app client id")
    p.add_argument("--kind", choices=["access", "id", "refresh"], default="access")
    p.add_argument("--config", default=str(DEFAULT_CONFIG))
    p.set_defaults(func=token)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
