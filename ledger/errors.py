"""Named errors of the ledger core; library errors are translated into these at the boundary."""


class LedgerError(Exception):
    """Base class of every error the ledger raises on purpose."""


class ConfigurationError(LedgerError):
    """A setting is missing or malformed."""


class MasterKeyMissingError(ConfigurationError):
    """Personal data must be encrypted or decrypted but no master key was configured."""


class MasterKeyMismatchError(ConfigurationError):
    """A learner key was wrapped under a different master key than the one configured."""


class LearnerErasedError(LedgerError):
    """The learner's key was destroyed; their personal data can no longer be read or written."""

    def __init__(self, learner_id: str) -> None:
        super().__init__(f"learner {learner_id} was erased")
        self.learner_id = learner_id


class StoreError(LedgerError):
    """The database refused or failed an operation."""


class StoreConflictError(StoreError):
    """Another writer got there first (a tracked position already passed, a row already
    stored); the transaction rolled back whole. Re-read the positions and go on."""


class ErasedMeanwhileError(StoreConflictError):
    """A learner of the batch was erased (by another process) after the batch was
    prepared; nothing was appended. Prepare the batch again: that learner's events are
    then refused."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached, or dropped the connection; whether the operation
    took effect is not known. Retry later, re-reading what the store holds."""


class UnknownIssuerError(LedgerError):
    """No issuer with this id is registered."""


class RegistryError(LedgerError):
    """An issuer registry change is not allowed."""
