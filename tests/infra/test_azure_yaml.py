"""azure.yaml makes `azd up` run the three phases in order, and the checks notice when it does not.

The checks (azd_checks) read azure.yaml with a YAML parser and the Bicep with tree-sitter; each
mutation below breaks one thing in a copy of azure.yaml or a hook script.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
import yaml

from tests.infra.azd_checks import AZURE_YAML, ROOT, load_project, problems
from tests.infra.bicep_checks import load_sources
from tests.infra.bicep_tree import Infra

FILES = load_project()
INFRA = Infra(load_sources())
POSTDEPLOY, PREPROVISION = "infra/hooks/postdeploy.sh", "infra/hooks/preprovision.sh"
PREPACKAGE = "infra/hooks/prepackage.sh"


def test_real_azure_yaml_passes() -> None:
    assert problems(FILES, INFRA) == []


def test_azure_yaml_names_the_service_and_the_hook_scripts() -> None:
    config = yaml.safe_load(FILES[AZURE_YAML])
    assert config["services"] == {"api": {"project": ".", "language": "python", "host": "function"}}
    assert {name: hook["run"] for name, hook in config["hooks"].items()} == {
        "preprovision": PREPROVISION,
        "prepackage": PREPACKAGE,
        "postdeploy": POSTDEPLOY,
    }
    for script in (PREPROVISION, PREPACKAGE, POSTDEPLOY, "infra/hooks/rotate-webpubsub-key.sh"):
        assert os.access(ROOT / script, os.X_OK), f"{script} is not executable"


def test_the_verifier_the_hook_runs_is_the_one_in_infra() -> None:
    assert (ROOT / "infra" / "verify.py").is_file()
    assert "-r ../requirements.txt" in (ROOT / "infra" / "requirements-verify.txt").read_text()


@dataclass(frozen=True)
class Mutation:
    file: str
    old: str  # must occur exactly once
    new: str
    expect: str  # part of the problem the checks must report


MUTATIONS = {
    "event handler wired before publish": Mutation(
        AZURE_YAML, "  postdeploy:\n", "  postprovision:\n", "needs a postdeploy hook"
    ),
    "hook script missing": Mutation(
        AZURE_YAML,
        "run: infra/hooks/postdeploy.sh",
        "run: infra/hooks/post-deploy.sh",
        "does not exist",
    ),
    "service hosted elsewhere": Mutation(
        AZURE_YAML, "host: function", "host: appservice", "host must be"
    ),
    "service renamed": Mutation(AZURE_YAML, "  api:\n", "  web:\n", "azd-service-name: web"),
    "another module": Mutation(AZURE_YAML, "module: main", "module: app", "infra.module"),
    "not yaml": Mutation(AZURE_YAML, "services:\n", "services: [\n", "not YAML"),
    "hook does not deploy the event handler": Mutation(
        POSTDEPLOY,
        '--template-file "$infra/event-handler.bicep"',
        '--template-file "$infra/main.bicep"',
        "must deploy infra/event-handler.bicep",
    ),
    "hook drops a parameter": Mutation(POSTDEPLOY, ' hubName="$hub"', "", "parameter hubName"),
    "hook reads a variable azd does not set": Mutation(
        POSTDEPLOY,
        "${webPubSubName:?",
        "${webPubSubResource:?",
        "webPubSubResource, which is not an output",
    ),
    "verifier not run": Mutation(
        POSTDEPLOY,
        '"$venv/bin/python" "$infra/verify.py" "$url"',
        "true",
        "must run infra/verify.py",
    ),
    "no JWT_SECRET made": Mutation(
        PREPROVISION, 'azd env set JWT_SECRET "', 'azd env set JWT_TOKEN "', "must make JWT_SECRET"
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_checks_report_the_mutation(mutation: Mutation) -> None:
    text = FILES[mutation.file]
    assert text.count(mutation.old) == 1, f"{mutation.old!r} is not once in {mutation.file}"
    found = problems({**FILES, mutation.file: text.replace(mutation.old, mutation.new)}, INFRA)
    assert any(mutation.expect in problem for problem in found), found


def test_checks_report_an_event_handler_deployed_by_another_hook() -> None:
    config = yaml.safe_load(FILES[AZURE_YAML])
    config["hooks"]["postprovision"] = {"shell": "sh", "run": "infra/hooks/early.sh"}
    files = {
        **FILES,
        AZURE_YAML: yaml.safe_dump(config),
        "infra/hooks/early.sh": "az deployment group create --template-file infra/event-handler.bicep\n",
    }
    assert "the postprovision hook deploys the event handler: only after publish" in problems(
        files, INFRA
    )
