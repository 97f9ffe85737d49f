"""tests/e2e/test_throttle.py: the per-address login throttle cannot be
reset by the attacker's own successful logins (docs/authentication.md,
"Brute-force protection and lockout")."""

PW = "correct horse battery staple"


def test_own_success_does_not_reset_the_address_counter(server, uniq):
    """Guesses against many names from one address, with a successful
    login to an account the guesser owns every ten: before the fix all
    were 401 (the success cleared the address's count); now the address
    reaches its delays (default: after 15 failures)."""
    mine = uniq("mine")
    r = server.post("/v1/users", {"name": mine, "password": PW})
    assert r.status_code == 201, r.text
    codes = []
    for i in range(40):
        if i % 10 == 9:
            server.post("/v1/login", {"user": mine, "password": PW},
                        token=None)
            continue
        r = server.post("/v1/login", {"user": uniq("victim"),
                                      "password": "wrong guess %d" % i},
                        token=None)
        codes.append(r.status_code)
    assert codes.count(429) > 0, codes
    assert codes[:15] == [401] * 15, codes
    # The refusal names the address and is recorded.
    recs = [x for x in server.audit_records()
            if x.get("action") == "session:login" and x.get("status") == 429]
    assert recs and any("address" in x.get("reasons", "") for x in recs)
