from mangalm_desktop.security import secrets


def test_secret_roundtrip_in_keyring(memory_keyring):
    secrets.set_secret("db:office", "s3cr3t")
    assert secrets.get_secret("db:office") == "s3cr3t"
    assert memory_keyring.store[(secrets.SERVICE, "db:office")] == "s3cr3t"
    secrets.delete_secret("db:office")
    assert secrets.get_secret("db:office") is None
    secrets.delete_secret("db:office")  # deleting twice is harmless
