"""Every reliability scenario at full size (`make test-reliability`); code: test/integration/reliability."""

from test_apiserver_faults import (  # noqa: F401
    client,
    plane,
    test_apiserver_sigkill_during_convergence,
    test_watch_expiry_during_a_burst,
)
from test_bad_input import test_generated_specs  # noqa: F401
from test_conflict_storm import test_conflict_storm  # noqa: F401
from test_full_devnet import test_full_devnet_restricted_and_every_code_path  # noqa: F401
from test_leader_failover import test_leader_failover  # noqa: F401
from test_network_faults import test_random_connection_resets  # noqa: F401
from test_zz_secrets_and_privilege import (  # noqa: F401
    test_finalizers_grants_are_needed_for_block_owner_deletion,
    test_no_key_material_anywhere,
    test_operators_used_only_what_the_role_grants,
)
