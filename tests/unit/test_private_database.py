"""`make run`'s SQLite file is private to its owner, like dev.env."""
import os

from scripts.run_local import private_database


def test_the_embedded_database_is_created_with_mode_0600(tmp_path):
    private_database(tmp_path / "instance")
    assert oct((tmp_path / "instance" / "flowdeck.db").stat().st_mode & 0o777) == "0o600"


def test_an_existing_world_readable_database_is_tightened_and_kept(tmp_path):
    path = tmp_path / "flowdeck.db"
    path.write_bytes(b"SQLite format 3\x00")
    os.chmod(path, 0o644)
    private_database(tmp_path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.read_bytes() == b"SQLite format 3\x00"
