"""Reads a Redline training file the way open trainers do, and fails loudly if one could not.

Hugging Face `datasets` loads the JSONL into Arrow tables (TRL, axolotl and most open
fine-tuning scripts start there): every line must parse and the lines must share one schema.
Then each conversation is rendered through a tokenizer's chat template with `transformers`'
`apply_chat_template`, as TRL's SFT and DPO trainers do before tokenizing. The template is a
ChatML one with tool calls, written here; the loader and the renderer are the libraries' own.

Usage: load_export.py FORMAT FILE EXPECTED_ROWS, FORMAT one of chat, preference_trl,
preference_openai. Prints one JSON summary line; exits non-zero on any failure.
"""

import json
import sys

from datasets import load_dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

CHATML_WITH_TOOLS = (
    "{%- for message in messages -%}"
    "<|im_start|>{{ message['role'] }}\n"
    "{%- if message['content'] is not none %}{{ message['content'] }}{% endif -%}"
    "{%- if message.get('tool_calls') -%}"
    "{%- for call in message['tool_calls'] -%}"
    "<tool_call>{\"name\": {{ call['function']['name'] | tojson }}, "
    "\"arguments\": {{ call['function']['arguments'] }}}</tool_call>"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{%- if message.get('tool_call_id') %} [{{ message['tool_call_id'] }}]{% endif -%}"
    "<|im_end|>\n"
    "{%- endfor -%}"
)


def tokenizer():
    vocab = {"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    inner = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    inner.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=inner, chat_template=CHATML_WITH_TOOLS)


def fail(reason):
    print(json.dumps({"ok": False, "reason": reason}, ensure_ascii=False))
    sys.exit(1)


def conversations(fmt, row):
    """The conversations a trainer renders from one row, and the answer it learns."""
    if fmt == "chat":
        messages = row["messages"]
        return [messages], messages[-1]
    if fmt == "preference_trl":
        chosen = row["prompt"] + row["chosen"]
        rejected = row["prompt"] + row["rejected"]
        return [chosen, rejected], row["chosen"][-1]
    if fmt == "preference_openai":
        prompt = row["input"]["messages"]
        return [prompt + row["preferred_output"], prompt + row["non_preferred_output"]], row[
            "preferred_output"
        ][-1]
    fail(f"unknown format {fmt}")


def without_nulls(message):
    # Arrow gives every message every field any message had (absent ones as None), as a
    # trainer receives them; templates test for presence, so the absent ones are dropped.
    return {k: v for k, v in message.items() if v is not None or k == "content"}


def main():
    fmt, path, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        data = load_dataset("json", data_files=path, split="train")
    except Exception as error:  # noqa: BLE001 - any loader failure is the finding
        fail(f"datasets could not load {path}: {error}")
    if len(data) != expected:
        fail(f"{len(data)} rows loaded, {expected} expected")
    render = tokenizer()
    rendered = 0
    for index, row in enumerate(data):
        convs, answer = conversations(fmt, row)
        if answer["role"] != "assistant":
            fail(f"row {index}: the answer is a {answer['role']} message")
        for conv in convs:
            text = render.apply_chat_template(
                [without_nulls(m) for m in conv], tokenize=False
            )
            if answer is not None and answer.get("content") and conv[-1] is answer:
                if answer["content"] not in text:
                    fail(f"row {index}: the rendered text lacks the answer")
            ids = render.apply_chat_template([without_nulls(m) for m in conv], tokenize=True)
            if not ids:
                fail(f"row {index}: the conversation tokenized to nothing")
            rendered += 1
    print(json.dumps({"ok": True, "rows": len(data), "columns": data.column_names,
                      "rendered": rendered}, ensure_ascii=False))


if __name__ == "__main__":
    main()
