-- VoltDB's voter example (VoltDB/voltdb: examples/voter) for voltrs.
--
-- A TV talent show takes votes by phone: each call names a contestant; a phone may vote
-- at most `max_votes` times; every vote is recorded with the state of its area code.
-- Load with `voltrs sql < examples/voter/ddl.sql` against a running `voltrs start`;
-- README.md next to this file walks through it. `voltrs bench voter` embeds this file and
-- loads it itself when the procedures are missing.

-- Replicated: the contestants one can vote for.
CREATE TABLE contestants (
  contestant_number INTEGER     NOT NULL,
  contestant_name   VARCHAR(50) NOT NULL,
  CONSTRAINT pk_contestants PRIMARY KEY (contestant_number)
);

-- Partitioned on the caller's phone: one vote per row.
CREATE TABLE votes (
  phone_number      BIGINT     NOT NULL,
  state             VARCHAR(2) NOT NULL,
  contestant_number INTEGER    NOT NULL
);
PARTITION TABLE votes ON COLUMN phone_number;

-- Replicated: the US state of each area code (305 rows, loaded by Initialize).
CREATE TABLE area_code_state (
  area_code SMALLINT   NOT NULL,
  state     VARCHAR(2) NOT NULL,
  CONSTRAINT pk_area_code_state PRIMARY KEY (area_code)
);

-- Votes per phone: what Vote checks against the limit. Partitioned with votes, so the
-- check and the insert run in the same partition and the limit is exact.
CREATE VIEW v_votes_by_phone_number (phone_number, num_votes) AS
  SELECT phone_number, COUNT(*) FROM votes GROUP BY phone_number;

-- Votes per contestant and state: what Results and GetStateHeatmap read.
CREATE VIEW v_votes_by_contestant_number_state (contestant_number, state, num_votes) AS
  SELECT contestant_number, state, COUNT(*) FROM votes GROUP BY contestant_number, state;

-- Initialize(max_contestants, names): VoltDB's voter.Initialize. When contestants is empty,
-- inserts contestants 1..max_contestants named from the comma-separated names, and the 305
-- area codes; returns max_contestants. When it is not, changes nothing and returns the
-- number of contestants (so it is safe to call again).
CREATE PROCEDURE Initialize (max_contestants INTEGER, names VARCHAR)
  LANGUAGE LUA AS $$
local count_contestants = voltdb.sql("SELECT COUNT(*) FROM contestants")
local insert_contestant = voltdb.sql("INSERT INTO contestants (contestant_name, contestant_number) VALUES (?, ?)")
local insert_area_code = voltdb.sql("INSERT INTO area_code_state VALUES (?, ?)")

-- (area code, state) pairs, VoltDB's list.
local AREA_CODES = {
  907,"AK", 205,"AL", 256,"AL", 334,"AL", 251,"AL", 870,"AR", 501,"AR", 479,"AR", 480,"AZ", 602,"AZ",
  623,"AZ", 928,"AZ", 520,"AZ", 341,"CA", 764,"CA", 628,"CA", 831,"CA", 925,"CA", 909,"CA", 562,"CA",
  661,"CA", 510,"CA", 650,"CA", 949,"CA", 760,"CA", 415,"CA", 951,"CA", 209,"CA", 669,"CA", 408,"CA",
  559,"CA", 626,"CA", 442,"CA", 530,"CA", 916,"CA", 627,"CA", 714,"CA", 707,"CA", 310,"CA", 323,"CA",
  213,"CA", 424,"CA", 747,"CA", 818,"CA", 858,"CA", 935,"CA", 619,"CA", 805,"CA", 369,"CA", 720,"CO",
  303,"CO", 970,"CO", 719,"CO", 860,"CT", 203,"CT", 959,"CT", 475,"CT", 202,"DC", 302,"DE", 689,"FL",
  407,"FL", 239,"FL", 850,"FL", 727,"FL", 321,"FL", 754,"FL", 954,"FL", 927,"FL", 352,"FL", 863,"FL",
  386,"FL", 904,"FL", 561,"FL", 772,"FL", 786,"FL", 305,"FL", 941,"FL", 813,"FL", 478,"GA", 770,"GA",
  470,"GA", 404,"GA", 762,"GA", 706,"GA", 678,"GA", 912,"GA", 229,"GA", 808,"HI", 515,"IA", 319,"IA",
  563,"IA", 641,"IA", 712,"IA", 208,"ID", 217,"IL", 872,"IL", 312,"IL", 773,"IL", 464,"IL", 708,"IL",
  224,"IL", 847,"IL", 779,"IL", 815,"IL", 618,"IL", 309,"IL", 331,"IL", 630,"IL", 317,"IN", 765,"IN",
  574,"IN", 260,"IN", 219,"IN", 812,"IN", 913,"KS", 785,"KS", 316,"KS", 620,"KS", 606,"KY", 859,"KY",
  502,"KY", 270,"KY", 504,"LA", 985,"LA", 225,"LA", 318,"LA", 337,"LA", 774,"MA", 508,"MA", 339,"MA",
  781,"MA", 857,"MA", 617,"MA", 978,"MA", 351,"MA", 413,"MA", 443,"MD", 410,"MD", 301,"MD", 240,"MD",
  207,"ME", 517,"MI", 810,"MI", 278,"MI", 679,"MI", 313,"MI", 586,"MI", 947,"MI", 248,"MI", 734,"MI",
  269,"MI", 989,"MI", 906,"MI", 616,"MI", 231,"MI", 612,"MN", 320,"MN", 651,"MN", 763,"MN", 952,"MN",
  218,"MN", 507,"MN", 636,"MO", 660,"MO", 975,"MO", 816,"MO", 573,"MO", 314,"MO", 557,"MO", 417,"MO",
  769,"MS", 601,"MS", 662,"MS", 228,"MS", 406,"MT", 336,"NC", 252,"NC", 984,"NC", 919,"NC", 980,"NC",
  910,"NC", 828,"NC", 704,"NC", 701,"ND", 402,"NE", 308,"NE", 603,"NH", 908,"NJ", 848,"NJ", 732,"NJ",
  551,"NJ", 201,"NJ", 862,"NJ", 973,"NJ", 609,"NJ", 856,"NJ", 575,"NM", 957,"NM", 505,"NM", 775,"NV",
  702,"NV", 315,"NY", 518,"NY", 646,"NY", 347,"NY", 212,"NY", 718,"NY", 516,"NY", 917,"NY", 845,"NY",
  631,"NY", 716,"NY", 585,"NY", 607,"NY", 914,"NY", 216,"OH", 330,"OH", 234,"OH", 567,"OH", 419,"OH",
  440,"OH", 380,"OH", 740,"OH", 614,"OH", 283,"OH", 513,"OH", 937,"OH", 918,"OK", 580,"OK", 405,"OK",
  503,"OR", 541,"OR", 971,"OR", 814,"PA", 717,"PA", 570,"PA", 878,"PA", 835,"PA", 484,"PA", 610,"PA",
  267,"PA", 215,"PA", 724,"PA", 412,"PA", 401,"RI", 843,"SC", 864,"SC", 803,"SC", 605,"SD", 423,"TN",
  865,"TN", 931,"TN", 615,"TN", 901,"TN", 731,"TN", 254,"TX", 325,"TX", 713,"TX", 940,"TX", 817,"TX",
  430,"TX", 903,"TX", 806,"TX", 737,"TX", 512,"TX", 361,"TX", 210,"TX", 979,"TX", 936,"TX", 409,"TX",
  972,"TX", 469,"TX", 214,"TX", 682,"TX", 832,"TX", 281,"TX", 830,"TX", 956,"TX", 432,"TX", 915,"TX",
  435,"UT", 801,"UT", 385,"UT", 434,"VA", 804,"VA", 757,"VA", 703,"VA", 571,"VA", 276,"VA", 236,"VA",
  540,"VA", 802,"VT", 509,"WA", 360,"WA", 564,"WA", 206,"WA", 425,"WA", 253,"WA", 715,"WI", 920,"WI",
  262,"WI", 414,"WI", 608,"WI", 304,"WV", 307,"WY",
}

function run(max_contestants, names)
  voltdb.queue_expect(count_contestants, voltdb.EXPECT_SCALAR_LONG)
  local existing = voltdb.execute()[1]:scalar()
  if existing > 0 then
    return existing
  end
  local list = {}
  for name in string.gmatch(names, "[^,]+") do
    list[#list + 1] = name
  end
  if max_contestants < 1 or max_contestants > #list then
    voltdb.abort("Initialize needs between 1 and " .. #list .. " contestants (as many as names), got " .. max_contestants)
  end
  for i = 1, max_contestants do
    voltdb.queue_expect(insert_contestant, voltdb.EXPECT_SCALAR_MATCH(1), list[i], i)
  end
  for i = 1, #AREA_CODES, 2 do
    voltdb.queue_expect(insert_area_code, voltdb.EXPECT_SCALAR_MATCH(1), AREA_CODES[i], AREA_CODES[i + 1])
  end
  voltdb.execute(true)
  return max_contestants
end
$$;

-- Vote(phone_number, contestant_number, max_votes): VoltDB's voter.Vote. Returns, as a
-- 1x1 BIGINT table (VoltDB's Java procedure returns a long):
--   0  the vote is recorded (state from the area code, phone / 10^7, or XX if unknown);
--   1  no such contestant; nothing recorded;
--   2  the phone already has max_votes votes; nothing recorded.
CREATE PROCEDURE Vote (phone_number BIGINT, contestant_number INTEGER, max_votes BIGINT)
  PARTITION ON TABLE votes COLUMN phone_number
  LANGUAGE LUA AS $$
local check_contestant = voltdb.sql("SELECT contestant_number FROM contestants WHERE contestant_number = ?")
local check_voter = voltdb.sql("SELECT num_votes FROM v_votes_by_phone_number WHERE phone_number = ?")
local check_state = voltdb.sql("SELECT state FROM area_code_state WHERE area_code = ?")
local insert_vote = voltdb.sql("INSERT INTO votes (phone_number, state, contestant_number) VALUES (?, ?, ?)")

local VOTE_SUCCESSFUL, ERR_INVALID_CONTESTANT, ERR_VOTER_OVER_VOTE_LIMIT = 0, 1, 2

function run(phone_number, contestant_number, max_votes)
  -- area_code is a SMALLINT: a phone number past 32767 * 10^7 has no known area code.
  local area_code = phone_number // 10000000
  if area_code > 32767 or area_code < -32768 then
    area_code = -1
  end
  voltdb.queue_expect(check_contestant, voltdb.EXPECT_ZERO_OR_ONE_ROW, contestant_number)
  voltdb.queue_expect(check_voter, voltdb.EXPECT_ZERO_OR_ONE_ROW, phone_number)
  voltdb.queue_expect(check_state, voltdb.EXPECT_ZERO_OR_ONE_ROW, area_code)
  local validation = voltdb.execute()
  if validation[1]:count() == 0 then
    return ERR_INVALID_CONTESTANT
  end
  if validation[2]:count() == 1 and validation[2]:scalar() >= max_votes then
    return ERR_VOTER_OVER_VOTE_LIMIT
  end
  local state = "XX"
  if validation[3]:count() == 1 then
    state = validation[3]:scalar()
  end
  voltdb.queue_expect(insert_vote, voltdb.EXPECT_SCALAR_MATCH(1), phone_number, state, contestant_number)
  voltdb.execute(true)
  return VOTE_SUCCESSFUL
end
$$;

-- Results(): each contestant with votes, and their total, most votes first.
CREATE PROCEDURE Results AS
  SELECT a.contestant_name AS contestant_name,
         a.contestant_number AS contestant_number,
         SUM(b.num_votes) AS total_votes
    FROM v_votes_by_contestant_number_state AS b, contestants AS a
   WHERE a.contestant_number = b.contestant_number
   GROUP BY a.contestant_name, a.contestant_number
   ORDER BY total_votes DESC, contestant_number ASC, contestant_name ASC;

-- GetStateHeatmap(): two tables, what VoltDB's dashboard polls: per state, the leading
-- contestant(s) (RANK 1 of that state's votes; ties give several rows), and the votes
-- per contestant.
CREATE PROCEDURE GetStateHeatmap AS BEGIN
  SELECT state, contestant_number, num_votes
    FROM (SELECT state, contestant_number, num_votes,
                 RANK() OVER (PARTITION BY state ORDER BY num_votes DESC) AS state_rank
            FROM v_votes_by_contestant_number_state) AS ranked
   WHERE state_rank = 1
   ORDER BY state, contestant_number;
  SELECT contestant_number, SUM(num_votes) AS num_votes
    FROM v_votes_by_contestant_number_state
   GROUP BY contestant_number
   ORDER BY contestant_number;
END;
