"""The router hands a turn to a specialist: by the model's route_to call, by rule, or by fallback."""

from __future__ import annotations

import msgspec
import pytest

from botrt.llm_transport import AiohttpTransport
from engine.agents import Agent, AgentSpec, AgentTurn, RouterAgent, RouteRule
from tests.engine.agents.support import MemoryMeter, MemoryRecorder, make_client
from tests.fakes.openai import Call, Fail, FakeOpenAI, Text, ToolCalls

TURN = AgentTurn(org_id="org-1", bot_id="bot-1", conversation_id="conv-1", text="Why was I charged twice?")


def router(fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter,
           rules: tuple[RouteRule, ...] = (), default: str | None = None) -> RouterAgent:
    client = make_client(transport, fake.base_url)

    def specialist(name: str, description: str) -> Agent:
        return Agent(AgentSpec(name=name, description=description, system_prompt=f"You are {name}."),
                     client=client, recorder=recorder, meter=meter)

    return RouterAgent(
        AgentSpec(name="front-desk"), client=client, recorder=recorder, meter=meter,
        specialists=[specialist("sales", "New plans and prices"), specialist("billing", "Invoices and refunds")],
        rules=rules, default=default,
    )


async def test_the_model_routes_to_a_specialist(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(ToolCalls(Call("route_to", {"agent": "billing", "reason": "charges"}), usage=(40, 8)),
                Text("I've refunded the duplicate charge.", usage=(60, 9)))
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    response = await router(fake, transport, recorder, meter).run(TURN, on_delta=on_delta)

    assert response.text == "I've refunded the duplicate charge."
    assert "".join(deltas) == response.text  # only the specialist's answer streams
    assert (response.agent, response.route) == ("billing", "billing")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (100, 17)
    routing, answering = fake.chat_requests
    assert routing["tool_choice"] == {"type": "function", "function": {"name": "route_to"}}
    (tool,) = routing["tools"]
    assert tool["function"]["parameters"]["properties"]["agent"]["enum"] == ["sales", "billing"]
    assert "billing: Invoices and refunds" in routing["messages"][0]["content"]
    assert answering["messages"][0] == {"role": "system", "content": "You are billing."}
    assert "tools" not in answering

    router_run, specialist_run = recorder.started
    assert (router_run.agent, router_run.parent_run_id) == ("front-desk", None)
    assert (specialist_run.agent, specialist_run.parent_run_id) == ("billing", router_run.run_id)
    assert specialist_run.run_id == response.run_id
    route_steps = recorder.steps_of(router_run.run_id)
    assert [(s.kind, s.status) for s in route_steps] == [("llm_call", "succeeded"), ("route", "succeeded")]
    assert route_steps[1].output == {"agent": "billing", "by": "model", "note": "charges"}
    assert [r.status for r in recorder.finished] == ["succeeded", "succeeded"]
    assert [(u.agent, u.prompt_tokens, u.completion_tokens) for u in meter.records] == [
        ("front-desk", 40, 8), ("billing", 60, 9)]


async def test_a_rule_routes_without_asking_the_model(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    rules = (RouteRule(agent="sales", intent="pricing"), RouteRule(agent="billing", keywords=("charged", "refund")))
    fake.script(Text("Here is what happened."))
    response = await router(fake, transport, recorder, meter, rules=rules).run(TURN)
    assert response.route == "billing"
    assert len(fake.chat_requests) == 1
    route_step = recorder.steps_of(recorder.started[0].run_id)[0]
    assert (route_step.kind, route_step.output["by"]) == ("route", "rule")

    fake.script(Text("Our plans..."))
    priced = msgspec.structs.replace(TURN, intent="pricing", text="how much?")
    assert (await router(fake, transport, recorder, meter, rules=rules).run(priced)).route == "sales"


async def test_a_failing_or_undecided_router_falls_back_to_the_default(
    fake: FakeOpenAI, transport: AiohttpTransport, recorder: MemoryRecorder, meter: MemoryMeter
) -> None:
    fake.script(Fail(503), Text("Sales here."))
    response = await router(fake, transport, recorder, meter).run(TURN)
    assert (response.route, response.text, response.status) == ("sales", "Sales here.", "succeeded")
    assert recorder.steps[-2].output["by"] == "fallback"

    fake.script(ToolCalls(Call("route_to", {"agent": "legal"})), Text("Billing here."))
    response = await router(fake, transport, recorder, meter, default="billing").run(TURN)
    assert response.route == "billing"


def test_routes_must_name_known_specialists(transport: AiohttpTransport) -> None:
    client = make_client(transport, "http://127.0.0.1:9/v1")
    recorder, meter = MemoryRecorder(), MemoryMeter()
    sales = Agent(AgentSpec(name="sales"), client=client, recorder=recorder, meter=meter)
    with pytest.raises(ValueError, match="unknown agents"):
        RouterAgent(AgentSpec(name="r"), client=client, recorder=recorder, meter=meter, specialists=[sales],
                    rules=[RouteRule(agent="legal", intent="law")])
    with pytest.raises(ValueError, match="no specialists"):
        RouterAgent(AgentSpec(name="r"), client=client, recorder=recorder, meter=meter, specialists=[])


def test_rules_match_on_slots_intents_and_whole_words() -> None:
    turn = AgentTurn(org_id="o", bot_id="b", conversation_id="c", text="Refunds please", slots={"tier": "gold"})
    assert RouteRule(agent="a", slot="tier").matches(turn)
    assert RouteRule(agent="a", slot="tier", equals="gold").matches(turn)
    assert not RouteRule(agent="a", slot="tier", equals="silver").matches(turn)
    assert not RouteRule(agent="a", keywords=("refund",)).matches(turn)  # a whole word, not a prefix
    assert RouteRule(agent="a", keywords=("refunds",), slot="tier").matches(turn)
    assert not RouteRule(agent="a", intent="billing", keywords=("refunds",)).matches(turn)
    assert not RouteRule(agent="a").matches(turn)
    rule = msgspec.convert({"agent": "billing", "slot": "topic", "equals": "refund", "priority": 5}, RouteRule)
    assert rule.matches(msgspec.structs.replace(turn, slots={"topic": "refund"}))
