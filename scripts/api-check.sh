#!/usr/bin/env bash
# Checks that the JSON API is exactly what its OpenAPI document says, against a live demo:
#   1. the document (`/api/v1/openapi.json`) is a valid OpenAPI 3.1 document
#      (openapi-spec-validator);
#   2. schemathesis generates requests for every operation under /api/v1, /widget/v1 and
#      /partner/v1 (valid and invalid ones) and checks each answer: no 5xx, a documented status, the
#      documented content type, a body of the documented schema, the documented headers.
# Exits non-zero on any failure. Bounded in time (a few minutes on 2 cores).
#
# Usage: scripts/api-check.sh [path/to/rempart]     (default: $REMPART_BIN, else
#        target/debug/rempart). Needs python3 (venv) and network access to PyPI.
#        Runs `rempart demo` (SQLite); with API_CHECK_POSTGRES (a server URL, e.g.
#        postgres://postgres@127.0.0.1:5432) `rempart serve` on a new database there.
#        API_CHECK_LINE: the chat line is `open` all day (default), `closed` all day, or
#        keeps the `real` hours.
# Knobs: API_CHECK_EXAMPLES (examples per operation, default 40), API_CHECK_SEED,
#        API_CHECK_VENV (reuse a venv), API_CHECK_TIMEOUT (seconds for the main schemathesis
#        run, 300; half for the second), API_CHECK_REPORTS (a folder to keep the JUnit and
#        HAR reports in).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${1:-${REMPART_BIN:-target/debug/rempart}}"
if [ ! -x "$bin" ]; then
  echo "no rempart binary at $bin (cargo build -p rempart)" >&2
  exit 2
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
SCHEMATHESIS_VERSION=4.32.5
examples="${API_CHECK_EXAMPLES:-40}"
budget="${API_CHECK_TIMEOUT:-300}"

work="$(mktemp -d "${TMPDIR:-/tmp}/rempart-api-check.XXXXXX")"
pid=""
db=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$db" ]; then
    psql "$API_CHECK_POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

section() { printf '\n==== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

section "python tools"
venv="${API_CHECK_VENV:-$work/venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/schemathesis" --version

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# The rate limits are raised: a generated flood of logins, new chat sessions and messages
# from one address would otherwise be answered 429 (documented, but it would hide the
# rest of each operation from the run).
export REMPART_SECURITY_LOGINS_PER_MINUTE=1000000
export REMPART_WIDGET_SESSIONS_PER_MINUTE=1000000
export REMPART_WIDGET_SESSIONS_PER_DAY=10000000
export REMPART_WIDGET_MESSAGE_BURST=1000000
export REMPART_WIDGET_TYPING_PER_MINUTE=1000000
# The line is open all day (conversations wait in the queue and are taken), closed all day
# (messages are left for later, with follow-up codes) or keeps the helpline's real hours:
# the run does not depend on the time of day.
case "${API_CHECK_LINE:-open}" in
  open | closed)
    hours=$([ "${API_CHECK_LINE:-open}" = open ] && echo "00:00-24:00" || echo closed)
    printf 'timezone = "Europe/Paris"\nholiday_hours = "same"\n[hours]\nevery_day = "%s"\n' \
      "$hours" >"$work/hours.toml"
    export REMPART_HELPLINE_OPENING_HOURS_FILE="$work/hours.toml"
    ;;
  real) ;;
  *)
    echo "API_CHECK_LINE: open, closed or real" >&2
    exit 2
    ;;
esac
if [ -z "${API_CHECK_POSTGRES:-}" ]; then
  section "demo (SQLite)"
  "$bin" demo --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/demo.log" 2>&1 &
  pid=$!
else
  # `rempart serve` on a new database of that server, with one account per role (the
  # lines the demo prints, in the same form)
  section "server (PostgreSQL)"
  db="rempart_api_check_$(date +%s)_$$"
  psql "$API_CHECK_POSTGRES/postgres" -qc "CREATE DATABASE $db"
  cat >"$work/rempart.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
public_url = "$base"
[database]
url = "$API_CHECK_POSTGRES/$db"
[secrets]
master_key = "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
[security]
secure_cookies = false
second_factor_roles = []
[evidence]
path = "$work/evidence"
EOF
  for role in counsellor psychologist lawyer supervisor admin; do
    password="check-$role-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
    printf '%s\n' "$password" | "$bin" user add --config "$work/rempart.toml" \
      --email "$role@check.invalid" --name "$role" --role "$role" --team paris >/dev/null 2>&1
    echo "demo account: $role $role@check.invalid $password" >>"$work/accounts"
  done
  "$bin" serve --config "$work/rempart.toml" >"$work/demo.log" 2>&1 &
  pid=$!
fi
for _ in $(seq 1 300); do
  curl -sf "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/demo.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf "$base/readyz" >/dev/null
echo "ready at $base"

section "OpenAPI document"
curl -sf "$base/api/v1/openapi.json" -o "$work/openapi.json"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"

section "tokens"
account() { # role -> "email password", from the demo's start-up lines
  touch "$work/accounts"
  awk -v r="$1" '$1 == "demo" && $2 == "account:" && $3 == r { print $4, $5 }' \
    "$work/demo.log" "$work/accounts"
}
login() { # role -> a bearer token
  local email password
  read -r email password <<<"$(account "$1")"
  curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\": \"$email\", \"password\": \"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
counsellor=$(login counsellor)
supervisor=$(login supervisor)
admin=$(login admin)
# logging out and the second factor get sessions of their own (a logout ends its session)
leaving=$(login psychologist)
second=$(login lawyer)
chat=$(curl -sf -X POST "$base/widget/v1/sessions" -H 'content-type: application/json' -d '{}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
# A platform's partner API key, issued by the administrator in the console as a person
# would (the login form, then the platform's keys page; the key is shown once).
partner_key() { # platform -> its new key
  local email password login_csrf csrf jar="$work/console-cookies"
  read -r email password <<<"$(account admin)"
  login_csrf=$(curl -sf -c "$jar" "$base/login" |
    sed -n 's/.*name="login_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -sf -b "$jar" -c "$jar" -o /dev/null -X POST "$base/login" \
    --data-urlencode "email=$email" --data-urlencode "password=$password" \
    --data-urlencode "login_csrf=$login_csrf"
  csrf=$(curl -sf -b "$jar" "$base/account" |
    sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -sf -b "$jar" -X POST "$base/admin/platforms/$1/keys" --data-urlencode "_csrf=$csrf" |
    sed -n 's/.*id="new-key" class="wrap" readonly value="\([^"]*\)".*/\1/p' | head -1
}
partner=$(partner_key tiktok)
if [ -z "$partner" ]; then
  echo "no partner API key could be issued" >&2
  exit 1
fi
echo "tokens: counsellor, supervisor, admin, psychologist (logout), lawyer (second factor), a chat, tiktok's partner key"

section "test data"
# Real ids and codes, which the run uses beside the values it makes up (so that answers
# about real objects are checked too, not only 404s and 422s): a few cases and
# conversations of the counsellor's, the platforms' and categories' codes.
BASE="$base" COUNSELLOR="$counsellor" python3 - >"$work/test-data.toml" <<'PY'
import json, os, sys, urllib.error, urllib.request

base, token = os.environ["BASE"], os.environ["COUNSELLOR"]


def call(method, path, bearer=None, body=None):
    req = urllib.request.Request(base + path, method=method)
    if bearer:
        req.add_header("Authorization", "Bearer " + bearer)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, None


cases = []
for i in range(3):
    status, case = call("POST", "/api/v1/cases", token, {
        "title": f"Dossier d'essai {i}", "categories": ["cyber_harassment"], "age_band": "15_17"})
    if status == 201:
        cases.append(case["id"])
call("PUT", "/api/v1/chats/availability", token, {"available": True, "capacity": 10})
follow_ups = []
for i in range(4):
    status, started = call("POST", "/widget/v1/sessions", None, {"age_band": "15_17"})
    if status == 201:
        call("POST", "/widget/v1/messages", started["token"], {"client_id": f"seed-{i}", "body": "bonjour"})
        if started["follow_up_code"]:
            follow_ups.append(started["follow_up_code"])
conversations = []
status, desk = call("GET", "/api/v1/chats", token)
if desk and desk["open"]:
    for _ in range(4):
        status, c = call("POST", "/api/v1/chats/take", token)
        if status == 200:
            conversations.append(c["id"])
elif desk:
    for left in desk["left_messages"][:4]:
        status, c = call("POST", f"/api/v1/chats/{left['id']}/take", token)
        if status == 200:
            conversations.append(c["id"])
# notices sent to a platform of the partner API (tiktok), for the partner's calls
notices = []
for i in range(3):
    status, case = call("POST", "/api/v1/cases", token, {
        "title": f"Signalement d'essai {i}", "categories": ["cyber_harassment"], "age_band": "15_17"})
    if status != 201:
        continue
    call("POST", f"/api/v1/cases/{case['id']}/items", token,
         {"platform": "tiktok", "content_type": "account", "native_id": f"@essai_{i}"})
    status, drafts = call("POST", f"/api/v1/cases/{case['id']}/notices", token)
    for d in drafts or []:
        if (call("POST", f"/api/v1/notices/{d['id']}/ready", token)[0] == 200
                and call("POST", f"/api/v1/notices/{d['id']}/send", token)[0] == 200):
            notices.append(d["id"])
platforms = [p["code"] for p in call("GET", "/api/v1/platforms", token)[1] or []]
categories = [c["code"] for c in call("GET", "/api/v1/categories", token)[1] or []]
print(f"{len(cases)} cases, {len(conversations)} conversations, {len(follow_ups)} follow-up "
      f"codes, {len(platforms)} platforms, {len(categories)} categories, {len(notices)} "
      f"notices to a partner", file=sys.stderr)


def dictionary(name, values, probability=0.5):
    return f'{{ dictionary = "{name}", probability = {probability} }}' if values else None


def operations(regex, parameters):
    kept = {k: v for k, v in parameters.items() if v}
    if kept:
        inner = ", ".join(f'"{k}" = {v}' for k, v in kept.items())
        print(f'[[operations]]\ninclude-path-regex = "{regex}"\nparameters = {{ {inner} }}\n')


category = dictionary("categories", categories)
operations("^/api/v1/(cases|contacts)$",
           {"body.categories[*]": category, "body.contact.categories[*]": category})
urls = ["https://www.instagram.com/compte_essai/", "https://www.tiktok.com/@essai/video/1"]
operations("^/api/v1/cases/[{]id[}]", {"path.id": dictionary("cases", cases),
                                       "body.platform": dictionary("platforms", platforms),
                                       "body.url": dictionary("urls", urls)})
operations("^/api/v1/chats/[{]id[}]", {"path.id": dictionary("conversations", conversations),
                                       "body.categories[*]": category})
operations("^/widget/v1/follow-up$", {"body.code": dictionary("follow_ups", follow_ups)})
operations("^/partner/v1/notices/[{]id[}]", {"path.id": dictionary("notices", notices)})
for name, values in (("cases", cases), ("conversations", conversations), ("notices", notices),
                     ("platforms", platforms), ("categories", categories), ("urls", urls),
                     ("follow_ups", follow_ups)):
    if values:
        print(f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n")
PY

# Each operation runs with the account whose work it is; the default is the counsellor's.
# The WebSockets are called from this origin (another one is refused before anything else).
cat >"$work/schemathesis.toml" <<EOF
headers = { Authorization = "Bearer $counsellor" }

[[operations]]
include-path-regex = "^/api/v1/(staff|invitations|role-grants)"
headers = { Authorization = "Bearer $admin" }

[[operations]]
include-path = "/api/v1/audit"
headers = { Authorization = "Bearer $supervisor" }

[[operations]]
include-path = "/api/v1/auth/logout"
headers = { Authorization = "Bearer $leaving" }

[[operations]]
include-path = "/api/v1/auth/totp"
headers = { Authorization = "Bearer $second" }

[[operations]]
include-path-regex = "/ws$"
headers = { Authorization = "Bearer $counsellor", Origin = "$base" }

[[operations]]
include-path-regex = "^/widget/v1/"
headers = { Authorization = "Bearer $chat" }

[[operations]]
include-path-regex = "^/partner/v1/"
headers = { Authorization = "Bearer $partner" }
EOF
cat "$work/test-data.toml" >>"$work/schemathesis.toml"

seed=()
if [ -n "${API_CHECK_SEED:-}" ]; then seed=(--seed "$API_CHECK_SEED"); fi
reports=junit
if [ -n "${API_CHECK_REPORTS:-}" ]; then reports=junit,har; fi
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
failed=0
run() { # name, seconds, operation filters...
  local name=$1 seconds=$2 rc
  shift 2
  section "schemathesis: $name"
  set +e
  (cd "$work" && timeout --kill-after=10 "$seconds" "$venv/bin/schemathesis" \
    --config-file "$work/schemathesis.toml" \
    run "$work/openapi.json" --url "$base" "$@" \
    --checks "$checks" \
    --max-examples "$examples" \
    --request-timeout 10 \
    --workers 2 \
    --no-color \
    --report "$reports" --report-dir "$work/report-$name" \
    "${seed[@]}")
  rc=$?
  set -e
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "schemathesis ($name) did not finish within ${seconds}s" >&2
  fi
  if [ "$rc" -ne 0 ]; then failed=1; fi
}
# Every operation of the API and the widget, but those that change staff accounts: run
# with real ids (found by the stateful phase), they would disable or demote the accounts
# whose tokens the run uses.
run api "$budget" --include-path-regex '^/(api|widget|partner)/v1/' \
  --exclude-path-regex '^/api/v1/staff/[{]id[}]/'
# Then those, with the administrator's token (who cannot disable or demote themself).
run staff "$((budget / 2))" --include-path-regex '^/api/v1/(staff|role-grants)'

if ! kill -0 "$pid" 2>/dev/null; then
  echo "the demo died during the run:" >&2
  tail -50 "$work/demo.log" >&2
  failed=1
fi
if grep -q 'ERROR' "$work/demo.log"; then
  echo "the demo logged errors:" >&2
  grep 'ERROR' "$work/demo.log" | tail -20 >&2
fi
if [ -n "${API_CHECK_REPORTS:-}" ]; then
  mkdir -p "$API_CHECK_REPORTS"
  cp -r "$work"/report-* "$API_CHECK_REPORTS"/
fi
if [ "$failed" -ne 0 ]; then
  echo "api-check: FAILED" >&2
  exit 1
fi
echo "api-check: OK"
