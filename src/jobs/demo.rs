//! A synthetic but realistic workload: seven operations, three models with several versions
//! over ~90 days, chat inputs with tool calls, outputs in several languages, and a share of
//! reviewed calls whose accuracy differs by operation and model version.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::model::ingest::validate_call;
use crate::model::{OutputKind, Verdict};
use crate::store::{InsertOutcome, ReviewInput, Store, StoreError};

/// Calls per stored batch (the API's own batch limit).
const BATCH: usize = 1_000;
const DAYS: i64 = 90;

pub struct DemoOptions {
    pub calls: usize,
    pub seed: u64,
    /// Days the calls span, ending at `end` (versions come and go at the same points of it).
    pub days: i64,
    /// How many of the model versions serve traffic (at most all of [`VERSIONS`]).
    pub versions: usize,
    /// The newest call's time; the oldest is `days` before.
    pub end: DateTime<Utc>,
    /// Share of calls that get a review.
    pub reviewed_share: f64,
}

impl DemoOptions {
    pub fn new(calls: usize, seed: u64) -> DemoOptions {
        DemoOptions {
            calls,
            seed,
            days: DAYS,
            versions: DEMO_VERSIONS,
            end: Utc::now(),
            reviewed_share: 0.08,
        }
    }
}

/// SplitMix64: small, fast and the same on every machine, so a seed reproduces a data set.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A generated call in the ingest API's shape, and the review it will get, if any.
pub struct DemoCall {
    pub item: Value,
    pub review: Option<PlannedReview>,
}

pub struct PlannedReview {
    pub verdict: Verdict,
    pub corrected_output: Option<String>,
    pub tags: Vec<String>,
    pub note: String,
    pub reviewer: &'static str,
    pub sampled: bool,
}

struct Version {
    model: &'static str,
    version: &'static str,
    /// Days (from the start of the window) during which this version served traffic.
    active: (i64, i64),
    accuracy_shift: f64,
    /// Cost per 1k tokens in USD (input, output).
    price: (f64, f64),
    speed_ms: i64,
}

/// Versions the demo serves; the benchmark adds the rest of [`VERSIONS`].
const DEMO_VERSIONS: usize = 7;

/// Every version the generator knows: the demo's seven, then five more for the benchmark.
pub const VERSION_COUNT: usize = 12;

const VERSIONS: [Version; VERSION_COUNT] = [
    Version {
        model: "gpt-4o",
        version: "2024-08-06",
        active: (0, 48),
        accuracy_shift: 0.0,
        price: (0.0025, 0.01),
        speed_ms: 900,
    },
    Version {
        model: "gpt-4o",
        version: "2024-11-20",
        active: (42, 90),
        accuracy_shift: 0.04,
        price: (0.0025, 0.01),
        speed_ms: 820,
    },
    Version {
        model: "claude-sonnet",
        version: "3.5-20241022",
        active: (0, 62),
        accuracy_shift: 0.02,
        price: (0.003, 0.015),
        speed_ms: 1100,
    },
    Version {
        model: "claude-sonnet",
        version: "4-20250514",
        active: (55, 90),
        accuracy_shift: 0.06,
        price: (0.003, 0.015),
        speed_ms: 1000,
    },
    Version {
        model: "llama-3.1-8b-ft",
        version: "base",
        active: (0, 32),
        accuracy_shift: -0.16,
        price: (0.0002, 0.0002),
        speed_ms: 240,
    },
    Version {
        model: "llama-3.1-8b-ft",
        version: "adapter-v1",
        active: (28, 72),
        accuracy_shift: -0.04,
        price: (0.0002, 0.0002),
        speed_ms: 250,
    },
    Version {
        model: "llama-3.1-8b-ft",
        version: "adapter-v2",
        active: (66, 90),
        accuracy_shift: 0.05,
        price: (0.0002, 0.0002),
        speed_ms: 250,
    },
    Version {
        model: "gpt-4o-mini",
        version: "2024-07-18",
        active: (0, 70),
        accuracy_shift: -0.06,
        price: (0.00015, 0.0006),
        speed_ms: 500,
    },
    Version {
        model: "gpt-4.1",
        version: "2025-04-14",
        active: (60, 90),
        accuracy_shift: 0.05,
        price: (0.002, 0.008),
        speed_ms: 850,
    },
    Version {
        model: "claude-haiku",
        version: "3.5-20241022",
        active: (10, 80),
        accuracy_shift: -0.03,
        price: (0.0008, 0.004),
        speed_ms: 450,
    },
    Version {
        model: "gemini-flash",
        version: "2.0-001",
        active: (20, 90),
        accuracy_shift: -0.02,
        price: (0.0001, 0.0004),
        speed_ms: 400,
    },
    Version {
        model: "llama-3.1-8b-ft",
        version: "adapter-v3",
        active: (80, 90),
        accuracy_shift: 0.07,
        price: (0.0002, 0.0002),
        speed_ms: 250,
    },
];

struct Operation {
    name: &'static str,
    description: &'static str,
    kind: OutputKind,
    base_accuracy: f64,
    /// Relative traffic.
    weight: u32,
    tags: &'static [&'static str],
}

const OPERATIONS: [Operation; 7] = [
    Operation {
        name: "ticket_summarize",
        description: "Two-sentence summary of a support ticket for the on-call engineer",
        kind: OutputKind::Text,
        base_accuracy: 0.86,
        weight: 30,
        tags: &[
            "missed_detail",
            "hallucination",
            "too_long",
            "wrong_priority",
        ],
    },
    Operation {
        name: "billing_extract",
        description: "Invoice fields as JSON",
        kind: OutputKind::Json,
        base_accuracy: 0.8,
        weight: 20,
        tags: &["wrong_amount", "wrong_currency", "missed_field", "format"],
    },
    Operation {
        name: "intent_classify",
        description: "Intent label of an inbound customer message",
        kind: OutputKind::Text,
        base_accuracy: 0.9,
        weight: 20,
        tags: &["wrong_label", "ambiguous"],
    },
    Operation {
        name: "reply_draft",
        description: "Draft reply to a customer email",
        kind: OutputKind::Text,
        base_accuracy: 0.8,
        weight: 12,
        tags: &["tone", "missed_question", "hallucination", "policy"],
    },
    Operation {
        name: "doc_translate",
        description: "Translation of help-centre snippets",
        kind: OutputKind::Text,
        base_accuracy: 0.87,
        weight: 8,
        tags: &["mistranslation", "untranslated", "format"],
    },
    Operation {
        name: "sql_generate",
        description: "SQL for an analytics question",
        kind: OutputKind::Text,
        base_accuracy: 0.72,
        weight: 6,
        tags: &["wrong_join", "wrong_filter", "syntax_error"],
    },
    Operation {
        name: "lead_qualify",
        description: "Qualify a sales lead with company lookups (tool calls)",
        kind: OutputKind::Json,
        base_accuracy: 0.83,
        weight: 4,
        tags: &["missed_lead", "wrong_score", "hallucination"],
    },
];

const CUSTOMERS: [&str; 12] = [
    "Acme GmbH",
    "Northwind Traders",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Logistics",
    "Wayne Foods",
    "Tyrell Systems",
    "Soylent Labs",
    "Hooli",
    "Vandelay Imports",
    "Duff Brewing",
];
const PROBLEMS: [&str; 14] = [
    "cannot log in after the password reset",
    "was charged twice for the March invoice",
    "sees a blank dashboard since the last release",
    "gets a timeout when exporting reports",
    "did not receive the order confirmation email",
    "wants to change the billing address on file",
    "reports that the mobile app crashes on start",
    "asks why the API returns 429 errors",
    "cannot upload files larger than 20 MB",
    "says the search results are in the wrong language",
    "needs the VAT number added to past invoices",
    "lost access after the SSO migration",
    "sees wrong totals in the weekly report",
    "asks for a refund of an unused annual plan",
];
const DETAILS: [&str; 16] = [
    "They tried clearing the cache and a different browser.",
    "The problem started on Monday morning.",
    "Three colleagues on the same team see the same behaviour.",
    "They attached a screenshot of the error message.",
    "This blocks their month-end close, so it is urgent for them.",
    "The account is on the Enterprise plan with a dedicated CSM.",
    "They mention a deadline on Friday.",
    "The error code shown is E-4012.",
    "They already opened a similar ticket two weeks ago.",
    "The customer is polite but clearly frustrated.",
    "It only happens on the EU region.",
    "Their IT department confirmed no firewall changes.",
    "They are considering moving to a competitor if it is not fixed.",
    "A workaround with the CSV import works for now.",
    "The issue appears only for users with the admin role.",
    "They would like a call back rather than an email.",
];
const INTENTS: [&str; 8] = [
    "refund_request",
    "bug_report",
    "billing_question",
    "account_access",
    "feature_request",
    "cancellation",
    "shipping_status",
    "other",
];
const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];
const TRANSLATIONS: [(&str, &str, &str); 8] = [
    (
        "Arabic",
        "Your refund has been processed and will appear within five business days.",
        "تمت معالجة استرداد أموالك وسيظهر خلال خمسة أيام عمل.",
    ),
    (
        "Arabic",
        "To reset your password, open Settings and choose Security.",
        "لإعادة تعيين كلمة المرور، افتح الإعدادات واختر الأمان.",
    ),
    (
        "German",
        "Your refund has been processed and will appear within five business days.",
        "Ihre Rückerstattung wurde bearbeitet und erscheint innerhalb von fünf Werktagen.",
    ),
    (
        "German",
        "Invoices can be downloaded as PDF from the billing page.",
        "Rechnungen können auf der Abrechnungsseite als PDF heruntergeladen werden.",
    ),
    (
        "Japanese",
        "Your refund has been processed and will appear within five business days.",
        "返金処理が完了しました。5営業日以内に反映されます。",
    ),
    (
        "Japanese",
        "To reset your password, open Settings and choose Security.",
        "パスワードをリセットするには、設定を開いてセキュリティを選択してください。",
    ),
    (
        "French",
        "Invoices can be downloaded as PDF from the billing page.",
        "Les factures peuvent être téléchargées au format PDF depuis la page de facturation.",
    ),
    (
        "Hebrew",
        "Your order has shipped and will arrive on Thursday.",
        "ההזמנה שלך נשלחה ותגיע ביום חמישי.",
    ),
];
const QUESTIONS: [(&str, &str, &str); 5] = [
    ("How many orders did each country place last month?", "SELECT c.country, count(*) AS orders\nFROM orders o\nJOIN customers c ON c.id = o.customer_id\nWHERE o.created_at >= date_trunc('month', now()) - interval '1 month'\n  AND o.created_at < date_trunc('month', now())\nGROUP BY c.country\nORDER BY orders DESC;", "SELECT country, count(*) FROM orders GROUP BY country;"),
    ("Which ten customers spent the most this year?", "SELECT c.name, sum(o.total) AS spent\nFROM orders o\nJOIN customers c ON c.id = o.customer_id\nWHERE o.created_at >= date_trunc('year', now())\nGROUP BY c.name\nORDER BY spent DESC\nLIMIT 10;", "SELECT c.name, sum(o.total) AS spent\nFROM orders o, customers c\nGROUP BY c.name\nORDER BY spent DESC\nLIMIT 10;"),
    ("What is the average delivery time per carrier?", "SELECT carrier, avg(delivered_at - shipped_at) AS avg_delivery\nFROM shipments\nWHERE delivered_at IS NOT NULL\nGROUP BY carrier;", "SELECT carrier, avg(delivered_at - shipped_at)\nFROM shipments\nGROUP BY carrier"),
    ("How many tickets were reopened this week?", "SELECT count(*)\nFROM tickets\nWHERE reopened_at >= date_trunc('week', now());", "SELECT count(*) FROM tickets WHERE status = 'reopened';"),
    ("List products that have never been ordered.", "SELECT p.id, p.name\nFROM products p\nLEFT JOIN order_items i ON i.product_id = p.id\nWHERE i.id IS NULL;", "SELECT p.id, p.name FROM products p JOIN order_items i ON i.product_id = p.id WHERE i.id IS NULL;"),
];
const REVIEWERS: [&str; 4] = ["alice", "bilal", "chen", "dana"];

fn sentences(rng: &mut Rng, pool: &[&str], n: usize) -> String {
    (0..n)
        .map(|_| *rng.pick(pool))
        .collect::<Vec<_>>()
        .join(" ")
}

/// (output, correction when wrong, system prompt, user turn and extra turns)
struct Content {
    input: Value,
    good: String,
    bad: String,
}

fn content(rng: &mut Rng, op: &Operation, index: usize) -> Content {
    let customer = *rng.pick(&CUSTOMERS);
    match op.name {
        "ticket_summarize" => {
            let problem = *rng.pick(&PROBLEMS);
            let n = 1 + rng.below(10);
            let details = sentences(rng, &DETAILS, n);
            let ticket = format!(
                "Ticket #{} from {customer}: the customer {problem}. {details}",
                40_000 + index
            );
            let first = details
                .split(". ")
                .next()
                .unwrap_or("")
                .trim_end_matches('.');
            Content {
                input: json!([
                    {"role": "system", "content": "You summarize support tickets in at most two sentences for the on-call engineer. Always mention the customer and any deadline."},
                    {"role": "user", "content": ticket}
                ]),
                good: format!("{customer} {problem}. {first}."),
                bad: format!("{customer} has a general question about their account."),
            }
        }
        "billing_extract" => {
            let amount = (rng.below(900_000) as f64) / 100.0 + 10.0;
            let currency = *rng.pick(&CURRENCIES);
            let number = format!("INV-2026-{:05}", index % 100_000);
            let due = format!("2026-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28));
            let text = format!(
                "Invoice {number}\nFrom: {customer}\nBill to: Redline Inc., 1 Market St\nDate of issue: 2026-01-05\nDue date: {due}\n\nConsulting services  {amount:.2} {currency}\nVAT 0% (reverse charge)\nTotal due: {amount:.2} {currency}\n\nPlease pay by bank transfer quoting the invoice number."
            );
            let good = json!({"vendor": customer, "invoice_number": number, "amount": (amount * 100.0).round() / 100.0, "currency": currency, "due_date": due});
            let mut bad = good.clone();
            bad["amount"] = json!(((amount / 10.0) * 100.0).round() / 100.0);
            Content {
                input: json!([
                    {"role": "system", "content": "Extract vendor, invoice_number, amount (number), currency (ISO 4217) and due_date (YYYY-MM-DD) from the invoice. Answer with JSON only."},
                    {"role": "user", "content": text}
                ]),
                good: serde_json::to_string_pretty(&good).unwrap_or_default(),
                bad: serde_json::to_string_pretty(&bad).unwrap_or_default(),
            }
        }
        "intent_classify" => {
            let intent = rng.below(INTENTS.len());
            let message = format!(
                "Hi, this is {customer}. We {}. {}",
                rng.pick(&PROBLEMS),
                rng.pick(&DETAILS)
            );
            Content {
                input: json!(message),
                good: INTENTS[intent].to_string(),
                bad: INTENTS[(intent + 1 + rng.below(INTENTS.len() - 1)) % INTENTS.len()]
                    .to_string(),
            }
        }
        "reply_draft" => {
            let problem = *rng.pick(&PROBLEMS);
            let n = 2 + rng.below(6);
            let body = sentences(rng, &DETAILS, n);
            let email = format!("Hello,\n\nour team {problem}. {body}\n\nCan you tell us when this will be fixed and whether we get a credit?\n\nBest,\n{customer}");
            Content {
                input: json!([
                    {"role": "system", "content": "Draft a friendly, concise reply for the support agent to send. Answer every question the customer asks. Never promise credits."},
                    {"role": "user", "content": email}
                ]),
                good: format!("Hello {customer} team,\n\nthank you for the detailed report, and sorry for the trouble. Our engineers are looking into why your team {problem}; we expect an update within one business day and will write as soon as it is fixed.\n\nAbout a credit: I have passed your request to our billing team, who will reply to you directly.\n\nBest regards,\nSupport"),
                bad: format!("Hello {customer} team,\n\nsorry for the trouble. We will of course credit your account for the full month. The issue is fixed.\n\nBest regards,\nSupport"),
            }
        }
        "doc_translate" => {
            let (language, source, target) = *rng.pick(&TRANSLATIONS);
            Content {
                input: json!([
                    {"role": "system", "content": format!("Translate the help-centre snippet into {language}. Keep product names in English.")},
                    {"role": "user", "content": source}
                ]),
                good: target.to_string(),
                bad: source.to_string(),
            }
        }
        "sql_generate" => {
            let (question, good, bad) = *rng.pick(&QUESTIONS);
            Content {
                input: json!([
                    {"role": "system", "content": "You write PostgreSQL for the analytics warehouse. Tables: orders(id, customer_id, total, created_at), customers(id, name, country), shipments(id, order_id, carrier, shipped_at, delivered_at), tickets(id, status, reopened_at), products(id, name), order_items(id, order_id, product_id)."},
                    {"role": "user", "content": question}
                ]),
                good: good.to_string(),
                bad: bad.to_string(),
            }
        }
        _ => {
            let employees = 20 + rng.below(5_000);
            let domain = customer.to_lowercase().replace(' ', "") + ".example";
            let score = if employees > 500 { 82 } else { 41 };
            let good = json!({"qualified": employees > 500, "score": score, "reason": format!("{employees} employees, active evaluation")});
            let bad = json!({"qualified": employees <= 500, "score": 100 - score, "reason": "company size unknown"});
            Content {
                input: json!([
                    {"role": "system", "content": "Qualify inbound leads. Use lookup_company before answering. Answer with JSON {qualified, score, reason}."},
                    {"role": "user", "content": format!("New demo request from jane@{domain}: 'We are evaluating review tools for our LLM team.'")},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": format!("call_{index}"), "type": "function", "function": {"name": "lookup_company", "arguments": format!("{{\"domain\":\"{domain}\"}}")}}]},
                    {"role": "tool", "tool_call_id": format!("call_{index}"), "content": format!("{{\"name\":\"{customer}\",\"employees\":{employees},\"industry\":\"software\"}}")}
                ]),
                good: good.to_string(),
                bad: bad.to_string(),
            }
        }
    }
}

/// Generates call number `index` of `total` (deterministic for a seed).
pub fn generate(options: &DemoOptions, index: usize) -> DemoCall {
    let mut rng = Rng::new(
        options
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(index as u64),
    );
    let span = Duration::days(options.days.max(1)).num_seconds() as f64;
    let position = (index as f64 + rng.unit()) / options.calls.max(1) as f64;
    let created_at = options.end - Duration::seconds(((1.0 - position) * span) as i64);
    // Where in the span the call falls, in 90ths: the versions' windows are given so.
    let day = ((position * DAYS as f64) as i64).min(DAYS - 1);

    let total_weight: u32 = OPERATIONS.iter().map(|o| o.weight).sum();
    let mut ticket = rng.below(total_weight as usize) as u32;
    let op = OPERATIONS
        .iter()
        .find(|o| {
            if ticket < o.weight {
                true
            } else {
                ticket -= o.weight;
                false
            }
        })
        .unwrap_or(&OPERATIONS[0]);
    let active: Vec<&Version> = VERSIONS[..options.versions.clamp(1, VERSION_COUNT)]
        .iter()
        .filter(|v| v.active.0 <= day && day < v.active.1)
        .collect();
    let version = if active.is_empty() {
        &VERSIONS[0]
    } else {
        *rng.pick(&active)
    };

    let accuracy = (op.base_accuracy + version.accuracy_shift).clamp(0.05, 0.99);
    let correct = rng.unit() < accuracy;
    let Content { input, good, bad } = content(&mut rng, op, index);
    let output = if correct { good.clone() } else { bad };
    let input_tokens = (input.to_string().len() / 4) as i64 + 12;
    let output_tokens = (output.len() / 4) as i64 + 1;
    let latency = version.speed_ms / 3 + output_tokens * 18 + rng.below(400) as i64;
    let cost =
        (input_tokens as f64 * version.price.0 + output_tokens as f64 * version.price.1) / 1000.0;

    let item = json!({
        "operation": op.name,
        "model": version.model,
        "model_version": version.version,
        "input": input,
        "output": output,
        "latency_ms": latency,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": (cost * 1e6).round() / 1e6,
        "created_at": created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "metadata": {"region": if rng.below(3) == 0 { "eu-west-1" } else { "us-east-1" }, "app_version": format!("5.{}.{}", day / 30, rng.below(10))},
        "source": "demo",
        "external_id": format!("demo-{}-{index}", options.seed),
    });

    let review = (rng.unit() < options.reviewed_share).then(|| PlannedReview {
        verdict: if correct {
            Verdict::Correct
        } else {
            Verdict::Incorrect
        },
        corrected_output: (!correct).then(|| good.clone()),
        tags: if correct {
            vec![]
        } else {
            vec![rng.pick(op.tags).to_string()]
        },
        note: if correct || rng.below(3) > 0 {
            String::new()
        } else {
            "Seen this pattern several times this week.".to_string()
        },
        reviewer: *rng.pick(&REVIEWERS),
        sampled: rng.below(10) < 7,
    });
    DemoCall { item, review }
}

/// What each demo tag means, as a lead would write it.
fn tag_description(tag: &str) -> &'static str {
    match tag {
        "missed_detail" => "Leaves out a fact the on-call engineer needs (customer, error, impact)",
        "hallucination" => "States something the input does not say",
        "too_long" => "Longer than asked for",
        "wrong_priority" => "Urgency does not match the ticket",
        "wrong_amount" => "Amount differs from the invoice total",
        "wrong_currency" => "Currency is not the invoice's ISO 4217 code",
        "missed_field" => "A required field is missing or null",
        "format" => "Shape or formatting is off (dates, markup, extra text)",
        "wrong_label" => "Another intent fits the message better",
        "ambiguous" => "The message fits several intents; the label is a guess",
        "tone" => "Too curt, too casual or off-brand",
        "missed_question" => "Does not answer one of the customer's questions",
        "policy" => "Promises something our policy does not allow",
        "mistranslation" => "Meaning changed in translation",
        "untranslated" => "Parts left in the source language",
        "wrong_join" => "Joins the wrong tables or keys",
        "wrong_filter" => "Filters the wrong rows or period",
        "syntax_error" => "Does not run",
        "missed_lead" => "A qualified lead was scored as unqualified",
        "wrong_score" => "Score does not follow the lookup results",
        _ => "",
    }
}

/// The demo's operation definitions: descriptions, tags with their meaning, guidelines for
/// the two busiest operations, and a JSON Schema for the invoice extraction.
fn demo_definition(op: &Operation) -> crate::model::operation::OperationDefinition {
    use crate::model::operation::{OperationDefinition, TagDefinition};
    let mut definition = OperationDefinition::new(op.name);
    definition.description = op.description.into();
    definition.output_kind = op.kind;
    definition.accuracy_target = Some(0.9);
    definition.tags = op
        .tags
        .iter()
        .map(|tag| TagDefinition {
            name: (*tag).into(),
            description: tag_description(tag).into(),
            retired: false,
            aliases: Vec::new(),
        })
        .collect();
    match op.name {
        "ticket_summarize" => {
            definition.guidelines = "Judge the summary as the on-call engineer reading it at 3 am.\n\n\
                - **Correct** when it names the customer, the failing feature and the impact, in at most two sentences.\n\
                - **Incorrect** when any of those is missing or wrong; correct it in place and tag `missed_detail`.\n\
                - A summary that adds facts not in the ticket is `hallucination`, even when they are plausible.\n"
                .into();
        }
        "billing_extract" => {
            definition.guidelines = "Compare every field with the invoice text.\n\n\
                1. `amount` is the **total due** as a number, without thousands separators.\n\
                2. `currency` is the ISO 4217 code (`EUR`, not `€`).\n\
                3. `due_date` is `YYYY-MM-DD`.\n\n\
                Fix the JSON in the editor: the schema check lists what is still wrong.\n"
                .into();
            definition.json_schema = Some(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["vendor", "invoice_number", "amount", "currency", "due_date"],
                "properties": {
                    "vendor": {"type": "string", "minLength": 1},
                    "invoice_number": {"type": "string", "minLength": 1},
                    "amount": {"type": "number", "exclusiveMinimum": 0},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "due_date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
                },
                "additionalProperties": false
            }));
        }
        _ => {}
    }
    definition
}

/// Generates and stores `options.calls` calls with their reviews, printing progress.
pub async fn fill(store: &Store, options: &DemoOptions) -> Result<(), StoreError> {
    let now = Utc::now();
    for op in &OPERATIONS {
        let definition = demo_definition(op);
        store
            .apply_operation(
                &definition,
                |outcome| crate::store::NewAudit {
                    actor: "demo".into(),
                    action: "operation.create".into(),
                    target: op.name.into(),
                    detail: outcome.changes.join("; "),
                    address: None,
                },
                now,
            )
            .await?;
    }
    let started = Instant::now();
    let mut stored = 0usize;
    let mut reviewed = 0usize;
    let mut next_report = Instant::now();
    for start in (0..options.calls).step_by(BATCH) {
        let end = (start + BATCH).min(options.calls);
        let generated: Vec<DemoCall> = (start..end).map(|i| generate(options, i)).collect();
        let calls: Vec<_> = generated
            .iter()
            .filter_map(|g| validate_call(&g.item, now).ok())
            .collect();
        let outcomes = store.insert_calls(&calls, now).await?;
        let mut reviews = Vec::new();
        for (generated, outcome) in generated.iter().zip(&outcomes) {
            let (InsertOutcome::Created { id }, Some(plan)) = (outcome, &generated.review) else {
                continue;
            };
            let Ok(call_id) = uuid::Uuid::parse_str(id) else {
                continue;
            };
            reviews.push(ReviewInput {
                call_id,
                base_revision: 0,
                reviewer: plan.reviewer.to_string(),
                verdict: plan.verdict,
                corrected_output: plan.corrected_output.clone(),
                tags: plan.tags.clone(),
                note: plan.note.clone(),
                sampled: plan.sampled,
            });
        }
        reviewed += reviews.len();
        store.save_reviews(&reviews, now).await?;
        stored = end;
        if next_report <= Instant::now() || end == options.calls {
            let rate = stored as f64 / started.elapsed().as_secs_f64().max(1e-6);
            tracing::info!(
                "demo data: {stored}/{} calls ({:.0}%), {reviewed} reviews, {rate:.0} calls/s",
                options.calls,
                100.0 * stored as f64 / options.calls.max(1) as f64
            );
            next_report = Instant::now() + std::time::Duration::from_secs(2);
        }
    }
    store.checkpoint().await?;
    tracing::info!(
        "demo data ready: {stored} calls, {reviewed} reviews in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_call_passes_ingest_validation() {
        let options = DemoOptions::new(2_000, 3);
        for i in 0..2_000 {
            let call = generate(&options, i);
            if let Err(reason) = validate_call(&call.item, Utc::now()) {
                panic!("call {i} invalid: {reason}");
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_calls() {
        let options = DemoOptions::new(100, 9);
        assert_eq!(generate(&options, 42).item, generate(&options, 42).item);
        assert_ne!(generate(&options, 42).item, generate(&options, 43).item);
    }
}
