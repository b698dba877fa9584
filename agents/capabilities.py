"""The one registry of capabilities: each specialist agent, the MCP server it acts through, its primary
tool, its prompt, its routing examples and how front ends show it.

The graph, the router, the tool policy, the API's model names, the UI and the client configurations all
read this table (simonw/llm's `DEFAULT_PLUGINS` idea): adding a capability is one entry here plus its
MCP server module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Capability:
    name: str  # the agent's name in events, `--agent`, the API's `spark-agents-<name>` model
    server: str  # `mcp_servers.<server>`
    primary_tool: str  # forced on a small model's first step
    label: str
    icon: str
    prompt: str
    model_description: str  # GET /v1/models
    server_description: str  # client configurations (Continue, VS Code, Claude Desktop)
    routing_examples: tuple[str, ...]
    sample_prompts: tuple[str, ...]
    fallback_tool: str | None = None  # the primary tool when the capability's model is not configured
    # requests that ask for a tool other than the primary one: a small model's forced call is chosen among
    # the primary and these by similarity to the request (agents/intent.py)
    tool_examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


CAPABILITIES: dict[str, Capability] = {
    "coding": Capability(
        name="coding",
        server="code",
        primary_tool="generate_code",
        label="Coding",
        icon="🧑‍💻",
        prompt=(
            "You are the coding agent. Write correct, complete code in fenced blocks; use your tools to "
            "generate code, and to run or test it when the user asks. Report run output faithfully."
        ),
        model_description="the coding agent alone (writes and runs code in the sandbox)",
        server_description="write and run code in the sandbox",
        routing_examples=(
            "how do I reverse a linked list in C++",
            "convert this JSON to a TypeScript interface",
            "my Docker build fails with an error, help",
            "write a regular expression that matches email addresses",
            "add type hints to this function",
            "what does this Python snippet print",
            "create a React component with a form",
            "I get a segmentation fault in my C program",
            "write a SQL query to count orders per customer",
            "set up a GitHub Actions workflow for my tests",
            "implement quicksort and test it",
            "git says detached HEAD, how do I fix it",
            "write a Python function that parses a CSV file",
            "fix this bug in my JavaScript code",
            "why does my program raise a KeyError",
            "refactor this class to use dataclasses",
            "write unit tests with pytest for this module",
            "implement binary search in Rust",
            "run this script and show me the output",
            "what is wrong with this SQL query",
            "write a bash one-liner to find large files",
            "explain this stack trace",
            "generate a Go HTTP server",
            "optimize this loop, it is too slow",
        ),
        sample_prompts=(
            "Write a Python function that tells whether a string is a palindrome, and run a few tests on it.",
            "Explain this error: TypeError: 'NoneType' object is not subscriptable",
        ),
        tool_examples={
            "generate_code": (
                "write a Python function that reverses a string",
                "implement quicksort in Go",
                "create a React component with a form",
                "write a SQL query to count orders per customer",
                "generate a bash script that backs up a folder",
            ),
            "run_python": (
                "run print(6 * 7)",
                "run this code and show me the output",
                "execute this Python script",
                "run it",
                "what does this program print when I run it",
                "execute print('hello')",
            ),
            "explain_error": (
                "explain this error: TypeError: 'NoneType' object is not subscriptable",
                "what does this traceback mean",
                "why do I get KeyError: 'name'",
                "explain this stack trace",
            ),
        },
    ),
    "rag": Capability(
        name="rag",
        server="rag",
        primary_tool="search_documents",
        label="Documents (RAG)",
        icon="📄",
        prompt=(
            "You are the documents agent. Search the user's documents with search_documents and answer only "
            "from what it returns, citing sources as [n] with file and page. Say so when the documents do not answer."
        ),
        model_description="the documents agent alone (answers from ingested sources, with citations)",
        server_description="search and cite the documents ingested with `spark-agents ingest`",
        routing_examples=(
            "what does section 4 of the specification say",
            "in the paper I uploaded, what dataset did they use",
            "check my meeting notes for action items",
            "what is the refund policy in our handbook",
            "find the part of the lease about pets",
            "compare what the two reports I added say about costs",
            "remove that document from my library",
            "what are the key findings of the study in my files",
            "quote the installation instructions from the product manual",
            "does my uploaded policy mention remote work",
            "according to my documents, what is the warranty period",
            "search my notes for the meeting decisions",
            "what does the uploaded report say about revenue",
            "summarize the PDF I ingested",
            "find in my files where the deployment steps are described",
            "which of my sources mentions the budget",
            "cite the section of the manual about safety",
            "what did the contract I added say about termination",
            "list the documents I have ingested",
            "answer from my knowledge base",
            "look up the onboarding guide in my docs",
        ),
        sample_prompts=(
            "Summarise the main points of my documents, with citations.",
            "What do my documents say about memory requirements?",
        ),
        tool_examples={
            "search_documents": (
                "what do my documents say about the warranty",
                "find the part of the manual about safety",
                "summarize the PDF I ingested",
                "according to my notes, when is the deadline",
                "summarise the main points of my documents",
            ),
            "delete_source": (
                "delete the source 9b41c07e2d55aa13 from my documents",
                "remove that document from my library",
                "delete this file from my sources",
                "forget the document I uploaded",
            ),
            "list_sources": (
                "list the documents I have ingested",
                "which sources are in my library",
                "show me my documents",
            ),
        },
    ),
    "vision": Capability(
        name="vision",
        server="vision",
        primary_tool="describe_image",
        fallback_tool="extract_text",
        label="Vision",
        icon="🖼️",
        prompt=(
            "You are the vision agent. Use describe_image for questions about an image; when no vision "
            "model is available, use extract_text (OCR) and image_info and say what needs the vision model."
        ),
        model_description="the vision agent alone (images as data: URLs in image_url parts)",
        server_description="describe images, read their text (OCR)",
        routing_examples=(
            "look at this picture and tell me what breed the dog is",
            "read the numbers on this receipt photo",
            "what does the whiteboard in this photo say",
            "extract the table from this scanned invoice image",
            "is there anything wrong in this x-ray image",
            "translate the sign in this photo",
            "describe the UI in this screenshot",
            "what colors are used in this logo image",
            "caption this image",
            "what is in this image",
            "describe the attached photo",
            "read the text in this screenshot",
            "what does this diagram show",
            "OCR this scanned page",
            "what error is shown in the screenshot",
            "how many people are in the picture",
            "transcribe the handwriting in the photo",
            "what chart is this and what does it show",
            "identify the objects in this image",
        ),
        sample_prompts=(
            "Read the text in the image I attached.",
            "Describe the attached diagram.",
        ),
    ),
    "kg": Capability(
        name="kg",
        server="kg",
        primary_tool="query_graph",
        label="Knowledge graph",
        icon="🕸️",
        prompt=(
            "You are the knowledge-graph agent. Use the graph tools to find entities, neighbours and paths, "
            "and answer from the graph facts they return, naming the relations."
        ),
        model_description="the knowledge-graph agent alone",
        server_description="build and query knowledge graphs",
        routing_examples=(
            "which people are linked to both companies",
            "list all relations of the entity Acme Corp",
            "turn this article into subject relation object triples",
            "who are the neighbours of Berlin in the graph",
            "how many hops between Einstein and Bohr",
            "export the entity network",
            "which organisations does Jane Doe work with according to the extracted facts",
            "rebuild the knowledge graph from my sources",
            "what is the most connected node",
            "how is Marie Curie related to Pierre Curie",
            "build a knowledge graph from my documents",
            "extract the entities and relations from this text",
            "show me the graph of people and companies",
            "which entities are most central in the graph",
            "what connects the supplier to the lawsuit",
            "find the path between Alice and the Acme project",
            "who is connected to the CEO in the knowledge graph",
            "visualize the relationships between these organizations",
            "graph statistics: how many nodes and edges",
            "map the relationships between the characters",
        ),
        sample_prompts=(
            "Which entities are most central in my knowledge graph?",
            "How are the main entities in my documents related?",
        ),
    ),
}
SPECIALISTS: tuple[str, ...] = tuple(CAPABILITIES)
SERVERS: tuple[str, ...] = tuple(c.server for c in CAPABILITIES.values())
GENERAL_EXAMPLES: tuple[str, ...] = (
    "what is the boiling point of water",
    "recommend a good science fiction book",
    "how many days are in a leap year",
    "what does the word ephemeral mean",
    "convert 10 miles to kilometers",
    "who painted the Mona Lisa",
    "write a short poem about autumn",
    "what is the derivative of x squared",
    "good morning!",
    "why is the sky blue",
    "hello, how are you",
    "what is 2+2",
    "what is the capital of France",
    "tell me a joke",
    "what is the difference between weather and climate",
    "thank you",
    "who wrote Pride and Prejudice",
    "explain photosynthesis simply",
    "what day comes after Monday",
    "give me a synonym for happy",
    "how far is the moon",
)


def capability(name: str) -> Capability:
    return CAPABILITIES[name]


def server_of(agent: str) -> str:
    return CAPABILITIES[agent].server


def routes() -> dict[str, list[str]]:
    """The router's examples: every capability's, plus the general questions the supervisor answers."""
    table = {c.name: list(c.routing_examples) for c in CAPABILITIES.values()}
    table["general"] = list(GENERAL_EXAMPLES)
    return table
