"""azure.yaml (read with a YAML parser) against infra/: what `azd up` runs, and in which order.

`azd up` provisions (infra/main.bicep), publishes the `api` service, then runs the postdeploy
hook, which must deploy infra/event-handler.bicep with main.bicep's outputs and then run
infra/verify.py. Like the Bicep checks, each check returns problems, so the tests run them on
the real files and on mutated copies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.infra.bicep_checks import site_of
from tests.infra.bicep_eval import Evaluator, at
from tests.infra.bicep_tree import Infra, source
from tests.infra.deploy_checks import EVENT_HANDLER_FILE

ROOT = Path(__file__).resolve().parents[2]
AZURE_YAML = "azure.yaml"
EVENT_HANDLER_PATH = f"infra/{EVENT_HANDLER_FILE}"
REQUIRED_VARIABLE = re.compile(r"\$\{(\w+):\?")  # ${name:?message}: the script needs it
ENVIRONMENT_READ = re.compile(r"readEnvironmentVariable\('(\w+)'(?:, '([^']*)')?\)")


def load_project(root: Path = ROOT) -> dict[str, str]:
    """azure.yaml and every hook script it names, path (relative to root) -> text."""
    files = {AZURE_YAML: (root / AZURE_YAML).read_text()}
    config = yaml.safe_load(files[AZURE_YAML])
    for hook in (config.get("hooks") or {}).values():
        run = hook.get("run") if isinstance(hook, dict) else None
        if isinstance(run, str) and (root / run).is_file():
            files[run] = (root / run).read_text()
    return files


def _hook(config: Any, name: str) -> dict[str, Any]:
    hooks = config.get("hooks") if isinstance(config, dict) else None
    hook = hooks.get(name) if isinstance(hooks, dict) else None
    return hook if isinstance(hook, dict) else {}


def check_infra_section(config: Any, infra: Infra) -> list[str]:
    section = config.get("infra") if isinstance(config, dict) else None
    if not isinstance(section, dict):
        return ["azure.yaml needs an infra section"]
    problems = []
    for key, want in (("provider", "bicep"), ("path", "infra"), ("module", "main")):
        if section.get(key) != want:
            problems.append(f"azure.yaml infra.{key} must be {want!r}, found {section.get(key)!r}")
    if "main.bicepparam" not in infra.files:
        problems.append("azd reads infra/main.bicepparam: it is missing")
    return problems


def check_service(config: Any, infra: Infra) -> list[str]:
    services = config.get("services") if isinstance(config, dict) else None
    if not isinstance(services, dict) or len(services) != 1:
        return ["azure.yaml must name exactly one service (the Function App)"]
    (name, service), problems = next(iter(services.items())), list[str]()
    for key, want in (("project", "."), ("language", "python"), ("host", "function")):
        if not isinstance(service, dict) or service.get(key) != want:
            problems.append(f"azure.yaml service {name}: {key} must be {want!r}")
    site = site_of(infra)
    tag = at(Evaluator(infra.main, {}).eval(site.body), "tags.azd-service-name") if site else None
    if tag != name:
        problems.append(f"azd deploys service {name} to the site tagged azd-service-name: {name}")
    return problems


def check_postdeploy(config: Any, files: Mapping[str, str], infra: Infra) -> list[str]:
    """After publish: wait for the key, deploy the event handler, then verify."""
    hook = _hook(config, "postdeploy")
    run = hook.get("run")
    if hook.get("shell") != "sh" or not isinstance(run, str):
        return ["azure.yaml needs a postdeploy hook: shell sh, run <script>"]
    script = files.get(run)
    if script is None:
        return [f"the postdeploy hook's script {run} does not exist"]
    problems: list[str] = []
    deploy = script.find(f'--template-file "$infra/{EVENT_HANDLER_FILE}"')
    verify = script.find('"$infra/verify.py"')
    if deploy < 0:
        problems.append(f"{run} must deploy {EVENT_HANDLER_PATH}")
    if verify < 0 or verify < deploy:
        problems.append(f"{run} must run infra/verify.py after deploying the event handler")
    handler = infra.files.get(EVENT_HANDLER_FILE)
    for name, param in (handler.params if handler else {}).items():
        if param.default is None and f"{name}=" not in script:
            problems.append(f"{run} must pass {EVENT_HANDLER_FILE}'s parameter {name}")
    outputs = set(infra.main.outputs)
    for variable in REQUIRED_VARIABLE.findall(script):
        if variable not in outputs and not variable.startswith("AZURE_"):
            problems.append(f"{run} reads {variable}, which is not an output of main.bicep")
    for other, hook in (config.get("hooks") or {}).items():
        text = files.get(str(hook.get("run", ""))) if isinstance(hook, dict) else None
        if other != "postdeploy" and text and EVENT_HANDLER_FILE in text:
            problems.append(f"the {other} hook deploys the event handler: only after publish")
    return problems


def _required_environment(infra: Infra) -> set[str]:
    """Variables main.bicepparam reads, with no default, for a parameter main.bicep requires."""
    params_file, needed = infra.params_file, set()
    for name, value in (params_file.variables if params_file else {}).items():
        param = infra.main.params.get(name)
        if param is not None and param.default is None:
            needed |= {v for v, default in ENVIRONMENT_READ.findall(source(value)) if not default}
    return needed


def check_required_environment(config: Any, files: Mapping[str, str], infra: Infra) -> list[str]:
    """A required secret that main.bicepparam reads from the environment (JWT_SECRET) is made
    by the preprovision hook the first time, so `azd up` works with nothing set by hand."""
    hook = _hook(config, "preprovision")
    script = files.get(str(hook.get("run", "")), "")
    return [
        f"the preprovision hook must make {name} when the azd environment has none"
        for name in sorted(_required_environment(infra))
        if f"azd env set {name}" not in script
    ]


def problems(files: Mapping[str, str], infra: Infra) -> list[str]:
    try:
        config = yaml.safe_load(files[AZURE_YAML])
    except yaml.YAMLError as exc:
        return [f"azure.yaml is not YAML: {exc}"]
    if not isinstance(config, dict) or not config.get("name"):
        return ["azure.yaml must be a mapping with a name"]
    return [
        *check_infra_section(config, infra),
        *check_service(config, infra),
        *check_postdeploy(config, files, infra),
        *check_required_environment(config, files, infra),
    ]
