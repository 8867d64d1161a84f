-- Which calls the review queue drew for whom: a review is sampled when its call was drawn
-- for its reviewer, as the server recorded, never as a form says.
CREATE TABLE draws (
    call_seq  INTEGER NOT NULL REFERENCES calls (seq),
    reviewer  TEXT    NOT NULL,
    drawn_at  INTEGER NOT NULL,
    PRIMARY KEY (call_seq, reviewer)
);
