"""LLM agents: an OpenAI-compatible client, tools, the agent loop and a router.

Nothing here touches the network or the database directly: HTTP goes through the
LLMTransport / HttpCaller ports (botrt.llm_transport implements them over aiohttp), and runs,
steps and tokens go out through the AgentRecorder / UsageMeter ports.
"""

from engine.agents.agent import Agent, history_window
from engine.agents.catalog import BuiltinDeps, ToolDefinition, build_tool, build_tools
from engine.agents.client import ChatClient, DeltaSink, LLMConfig, LLMOverrides, StreamAssembler, resolve_llm_config
from engine.agents.errors import (
    HttpCallError,
    LLMEmptyAnswer,
    LLMError,
    LLMProtocolError,
    LLMRateLimited,
    LLMRejected,
    LLMTimeout,
    LLMUnavailable,
    ToolDefinitionError,
    error_for_status,
    parse_retry_after,
)
from engine.agents.http_tool import HttpTool, HttpToolConfig
from engine.agents.ports import (
    AgentRecorder,
    HttpCaller,
    HttpResponse,
    KnowledgeSearch,
    LLMTransport,
    Passage,
    RunFinished,
    RunStarted,
    RunStatus,
    StepRecord,
    TokenUsage,
    UsageMeter,
)
from engine.agents.router import RouterAgent, RouteRule
from engine.agents.spec import (
    AgentFailure,
    AgentHooks,
    AgentLimits,
    AgentResponse,
    AgentSpec,
    AgentTurn,
    TurnRunner,
)
from engine.agents.sse import SSEDecoder
from engine.agents.tools import (
    Cited,
    ConversationEnd,
    EndConversationTool,
    HandoffRequested,
    HandoffTool,
    KnowledgeSearchTool,
    SetSlotTool,
    SlotSet,
    Tool,
    ToolContext,
    ToolEffect,
    ToolResult,
)
from engine.agents.wire import ChatCompletion, ChatMessage, ChatRequest, FunctionCall, FunctionSpec, ToolCall, Usage

__all__ = [
    "Agent", "AgentFailure", "AgentHooks", "AgentLimits", "AgentRecorder", "AgentResponse", "AgentSpec",
    "AgentTurn", "BuiltinDeps", "ChatClient", "ChatCompletion", "ChatMessage", "ChatRequest", "Cited",
    "ConversationEnd", "DeltaSink", "EndConversationTool", "FunctionCall", "FunctionSpec", "HandoffRequested",
    "HandoffTool", "HttpCallError", "HttpCaller", "HttpResponse", "HttpTool", "HttpToolConfig", "KnowledgeSearch",
    "KnowledgeSearchTool", "LLMConfig", "LLMEmptyAnswer", "LLMError", "LLMOverrides", "LLMProtocolError",
    "LLMRateLimited", "LLMRejected", "LLMTimeout", "LLMTransport", "LLMUnavailable", "Passage", "RouteRule",
    "RouterAgent", "RunFinished", "RunStarted", "RunStatus", "SSEDecoder", "SetSlotTool", "SlotSet",
    "StepRecord", "StreamAssembler", "TokenUsage", "Tool", "ToolCall", "ToolContext", "ToolDefinition",
    "ToolDefinitionError", "ToolEffect", "ToolResult", "TurnRunner", "Usage", "UsageMeter", "build_tool",
    "build_tools", "error_for_status", "history_window", "parse_retry_after", "resolve_llm_config",
]
