#!/usr/bin/env bats
# Smoke tests for the notes API, run from the test image against a deployed stack:
#   docker run --rm -e APP_URL=http://HOST:PORT NOTES_TESTS_IMAGE bats /tests/smoke.bats

setup() {
  : "${APP_URL:?set APP_URL to the base URL of the notes API}"
  url=${APP_URL%/}
}

req() { # req METHOD PATH [JSON]: sets code (the HTTP status) and body
  local out
  out=$(curl -s --max-time 10 -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} \
    -w '\n%{http_code}' "$url$2")
  code=${out##*$'\n'}
  body=${out%$'\n'*}
}

@test "the API answers" {
  req GET /
  [ "$code" = 200 ]
  [ "$(jq -r .app <<<"$body")" = notes ]
}

@test "the notes are a JSON array" {
  req GET /notes
  [ "$code" = 200 ]
  [ "$(jq -r type <<<"$body")" = array ]
}

@test "a note is created, read and deleted" {
  req POST /notes '{"text":"buy milk"}'
  [ "$code" = 201 ]
  id=$(jq -r .id <<<"$body")
  req GET "/notes/$id"
  [ "$(jq -r .text <<<"$body")" = "buy milk" ]
  req DELETE "/notes/$id"
  [ "$code" = 204 ]
  req GET "/notes/$id"
  [ "$code" = 404 ]
}
