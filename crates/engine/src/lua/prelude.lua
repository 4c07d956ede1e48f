-- The Lua half of the procedure runtime. Runs once per LuaSite, with the state's real
-- globals, before any procedure; procedures never see these globals. Receives the table of
-- Rust primitives (api.rs) and returns the functions the site uses:
--   new_env()         a fresh environment (the _G) for one procedure's chunk
--   freeze(env)       moves env's globals behind a read-only view; returns the backing table
--   trampoline(f,...) runs f(...) under the message handler; the body of every coroutine
local P = ...

local yield, isyieldable, xpcall, pcall, error, next, rawget, type, tostring, setmetatable =
  coroutine.yield, coroutine.isyieldable, xpcall, pcall, error, next, rawget, type, tostring, setmetatable
local check, failed, handler, check_running, abort_now = P.check, P.failed, P.handler, P.check_running, P.abort

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

local VOLTDB = {
  sql = P.sql, queue = P.queue, queue_expect = P.queue_expect, table = P.table,
  set_app_status = P.set_app_status, transaction_time = P.transaction_time,
  unique_id = P.unique_id, EXPECT_SCALAR_MATCH = P.EXPECT_SCALAR_MATCH,
  EXPECT_ONE_ROW = P.EXPECT_ONE_ROW, EXPECT_ZERO_OR_ONE_ROW = P.EXPECT_ZERO_OR_ONE_ROW,
  EXPECT_EMPTY = P.EXPECT_EMPTY, EXPECT_NON_EMPTY = P.EXPECT_NON_EMPTY,
  EXPECT_SCALAR = P.EXPECT_SCALAR, EXPECT_SCALAR_LONG = P.EXPECT_SCALAR_LONG,
}

-- Hands the queued batch to the site, which resumes with the result tables (or never).
function VOLTDB.execute(final)
  check_running("voltdb.execute")
  if not isyieldable() then
    error("voltdb.execute cannot run inside a function called by a library function (table.sort, string.gsub, ...)", 2)
  end
  return yield("execute", final == true)
end

-- Records the abort, then hands control to the site, which never resumes.
function VOLTDB.abort(message)
  abort_now(message)
  return yield("abort")
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

local function trampoline(f, ...)
  return xpcall(f, handler, ...)
end

return { new_env = new_env, freeze = freeze, trampoline = trampoline }
