"""`play --remote-host`: a name that is not here is a usage error that lists the candidates (no network used)."""

from __future__ import annotations

from voicecoach.control.remote import hosts
from voicecoach.control.remote.hosts import Candidate


def test_a_wrong_remote_host_lists_the_candidates(run, monkeypatch, capfd):
    monkeypatch.setattr(hosts, "candidates", lambda: [Candidate("lo", "127.0.0.1"), Candidate("wlan0", "192.168.1.5")])
    monkeypatch.setattr(hosts, "route_address", lambda: "192.168.1.5")
    result = run("play", "inner-knee", "--remote-host", "wlan9")
    assert result.exit_code == 2
    err = result.output + capfd.readouterr().err  # a usage error goes to the real stderr
    assert err.splitlines()[-1] == (
        "Error: Invalid value for '--remote-host': no network interface or address 'wlan9' here; "
        "choose one with --remote-host: 192.168.1.5 (wlan0)"
    )
