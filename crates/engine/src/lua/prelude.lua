-- The Lua half of the procedure runtime. Runs once per LuaSite, with the state's real
-- globals, before any procedure; procedures never see these globals. Receives the table of
-- primitives (mlua callbacks from api.rs; C functions from batch.rs, result.rs and
-- coroutine.rs) and returns what the site uses:
--   new_env()             a fresh environment (the _G) for one procedure's chunk
--   freeze(env)           moves env's globals behind a read-only view; returns the backing table
--   trampoline(phase, f)  runs f(params()) under the message handler; the body of every coroutine
--
-- What a procedure calls on every transaction (voltdb.queue, queue_expect, execute,
-- EXPECT_SCALAR_MATCH, the methods of result tables) are C functions, called directly:
-- no Lua wrapper here adds VM instructions, each of which the limit hook makes expensive.
local P = ...

local yield, xpcall, pcall, error, next, rawget, type, tostring, setmetatable =
  coroutine.yield, xpcall, pcall, error, next, rawget, type, tostring, setmetatable
local check, handler, abort_now, declare, params, statement, queues =
  P.check, P.handler, P.abort, P.sql, P.params, P.statement, P.queues
local RUNNING, ABORT = P.RUNNING, P.ABORT

-- Bytecode is never loaded (chunks load in text mode), and cannot be made either.
string.dump = nil
-- The string metatable is shared by every procedure: hide it.
getmetatable("").__metatable = false

local function copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

-- pcall/xpcall cannot swallow a failure that ended the call (abort, expectation, SQL error,
-- limit): `check` re-raises it.
local function guarded_pcall(f, ...)
  return check(pcall(f, ...))
end
-- The message handler runs before the error unwinds; for an error raised by the limit hook
-- that is while hooks are still off, so a looping handler could never be stopped. Once the
-- call has failed, `check` raises instead of running the procedure's handler.
local function guarded_xpcall(f, msgh, ...)
  return check(xpcall(f, function(e) check() return msgh(e) end, ...))
end

local function guarded_setmetatable(t, mt)
  if type(mt) == "table" then
    if rawget(mt, "__gc") ~= nil then
      error("setmetatable: __gc is not allowed in procedures (finalizers run at non-deterministic times)", 2)
    end
    if rawget(mt, "__mode") ~= nil then
      error("setmetatable: __mode is not allowed in procedures (weak tables depend on garbage collection timing)", 2)
    end
  end
  -- Errors of setmetatable itself (a protected metatable, a bad argument) name the
  -- procedure's line, not this one.
  local ok, result = pcall(setmetatable, t, mt)
  if not ok then error(result, 2) end
  return result
end

local BASE = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
  pcall = guarded_pcall, xpcall = guarded_xpcall, rawequal = rawequal, rawget = rawget,
  rawlen = rawlen, rawset = rawset, select = select, setmetatable = guarded_setmetatable,
  getmetatable = getmetatable, tonumber = tonumber, tostring = tostring, type = type,
  _VERSION = _VERSION,
}

---------------------------------------------------------------------------------------
-- Result tables. A result with n rows of w columns is one table, all in its array part:
--   [1] n, [2] w, [3] the column types (encoded by values.rs), [4] origin (which call made
--   it, for values.rs; 0 if none), [5 .. 4+w] the column names, then the values row by row
--   (NULL is a hole), then, only when some name is not upper case, the upper-case names
--   (the keys of t:row(i)).
-- Built by result.rs; read back by values.rs when `run` returns one. The methods that read
-- values or can fail are C functions (result.rs); these are the rest.

local RESULT = copy(P.METHODS)
local RESULT_MT = P.RESULT_MT  -- made by the site, which sets it on every result table
RESULT_MT.__index = RESULT
RESULT_MT.__len = RESULT.count
RESULT_MT.__tostring = function(t) return "result table (" .. t[2] .. " columns, " .. t[1] .. " rows)" end
RESULT_MT.__metatable = false

function RESULT.columns(t)
  local names = {}
  for j = 1, t[2] do names[j] = t[4 + j] end
  return names
end

function RESULT.rows(t)
  local r, n, row = 0, t[1], RESULT.row
  return function()
    if r >= n then return nil end
    r = r + 1
    return row(t, r)
  end
end

---------------------------------------------------------------------------------------
-- The voltdb library.

local VOLTDB = {
  table = P.table, set_app_status = P.set_app_status, transaction_time = P.transaction_time,
  unique_id = P.unique_id, execute = P.execute, EXPECT_SCALAR_MATCH = P.EXPECT_SCALAR_MATCH,
}
for code, name in ipairs(P.EXPECT_NAMES) do VOLTDB[name] = P.expectation(code) end

-- Records the abort, then hands control to the site, which never resumes.
function VOLTDB.abort(message)
  abort_now(message)
  return yield(ABORT)
end

-- The functions of `voltdb` that know the procedure's own statements: each handle carries
-- the procedure's token, and only its own `queue` accepts it.
local function statement_functions(v)
  local token = {}
  function v.sql(text)
    return statement(token, declare(text))
  end
  v.queue, v.queue_expect = queues(token)
end

local function new_env()
  local env = copy(BASE)
  env.string = copy(string)
  env.table = copy(table)
  env.utf8 = copy(utf8)
  env.math = copy(math)
  env.math.random = P.random
  env.math.randomseed = nil
  env.voltdb = copy(VOLTDB)
  statement_functions(env.voltdb)
  env._G = env
  return env
end

local function freeze(env)
  local backing = copy(env)
  for k in next, backing do env[k] = nil end
  backing._G = env
  setmetatable(env, {
    __index = backing,
    __newindex = function(_, k)
      error("cannot assign global '" .. tostring(k) .. "' inside run; make it local", 2)
    end,
    __metatable = false,
  })
  return backing
end

-- The body of every coroutine: runs f with the call's parameters (none while declaring).
local function trampoline(phase, f)
  if phase == RUNNING then return xpcall(f, handler, params()) end
  return xpcall(f, handler)
end

return { new_env = new_env, freeze = freeze, trampoline = trampoline }
