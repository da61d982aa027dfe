//===- ScoreExpr.cpp - Score expressions of the spec format ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Grammar (precedence from low to high):
//   expr    := or
//   or      := and ('||' and)*
//   and     := cmp ('&&' cmp)*
//   cmp     := add (('<' | '<=' | '>' | '>=' | '==' | '!=') add)?
//   add     := mul (('+' | '-') mul)*
//   mul     := unary (('*' | '/') unary)*
//   unary   := ('-' | '!') unary | primary
//   primary := number | variable | param '[' 'h' ']' | call | '(' expr ')'
//   call    := name '(' expr (',' expr)* ')'
// Values are f32 numbers or booleans (from comparisons); the indices b, h,
// q_idx and kv_idx read as f32 numbers.
//
//===----------------------------------------------------------------------===//

#include "attn/Spec/ScoreExpr.h"
#include "SpecImporter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include <cctype>

using namespace mlir;
using namespace mlir::attn;

namespace {

enum class TokenKind { Number, Ident, Punct, End };

struct Token {
  TokenKind kind;
  StringRef text;
  size_t offset;
};

class ScoreExprParser {
public:
  ScoreExprParser(OpBuilder &builder, StringRef text, const ScoreExprEnv &env,
                  function_ref<Location(size_t)> locAt, StringRef diagPrefix)
      : b(builder), text(text), env(env), locAt(locAt), diagPrefix(diagPrefix) {
  }

  FailureOr<Value> parse() {
    if (failed(lex()))
      return failure();
    FailureOr<Value> value = parseOr();
    if (failed(value))
      return failure();
    if (peek().kind != TokenKind::End)
      return error(peek(), "unexpected '" + peek().text +
                               "' after a complete expression");
    if (isBool(*value))
      return error(tokens.front(),
                   "the expression is a comparison; a score must be a "
                   "number (use where(cond, a, b))");
    return value;
  }

private:
  OpBuilder &b;
  StringRef text;
  const ScoreExprEnv &env;
  function_ref<Location(size_t)> locAt;
  StringRef diagPrefix;
  std::vector<Token> tokens;
  size_t pos = 0;
  unsigned depth = 0;

  InFlightDiagnostic errorAt(size_t offset, const Twine &message) {
    return emitError(locAt(offset)) << diagPrefix << message;
  }
  FailureOr<Value> error(const Token &token, const Twine &message) {
    (void)errorAt(token.offset, message);
    return failure();
  }

  LogicalResult lex() {
    size_t i = 0;
    while (i < text.size()) {
      char c = text[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      size_t start = i;
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && i + 1 < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) ||
                text[i] == '.'))
          ++i;
        if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
          ++i;
          if (i < text.size() && (text[i] == '+' || text[i] == '-'))
            ++i;
          while (i < text.size() &&
                 std::isdigit(static_cast<unsigned char>(text[i])))
            ++i;
        }
        tokens.push_back({TokenKind::Number, text.slice(start, i), start});
        continue;
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[i])) ||
                text[i] == '_'))
          ++i;
        tokens.push_back({TokenKind::Ident, text.slice(start, i), start});
        continue;
      }
      StringRef two = text.substr(i, 2);
      if (two == "<=" || two == ">=" || two == "==" || two == "!=" ||
          two == "&&" || two == "||") {
        tokens.push_back({TokenKind::Punct, two, start});
        i += 2;
        continue;
      }
      if (StringRef("+-*/<>!()[],").contains(c)) {
        tokens.push_back({TokenKind::Punct, text.substr(i, 1), start});
        ++i;
        continue;
      }
      (void)errorAt(start, llvm::formatv("unexpected character '{0}'", c));
      return failure();
    }
    tokens.push_back({TokenKind::End, "", text.size()});
    return success();
  }

  const Token &peek() const { return tokens[pos]; }
  bool consume(StringRef punct) {
    if (peek().kind == TokenKind::Punct && peek().text == punct) {
      ++pos;
      return true;
    }
    return false;
  }
  LogicalResult expect(StringRef punct) {
    if (consume(punct))
      return success();
    const Token &t = peek();
    (void)errorAt(t.offset,
                  "expected '" + punct + "' but found " +
                      (t.kind == TokenKind::End ? std::string("the end")
                                                : "'" + t.text.str() + "'"));
    return failure();
  }

  static bool isBool(Value v) { return v.getType().isInteger(1); }
  Location loc(const Token &t) { return locAt(t.offset); }

  FailureOr<Value> number(const Token &t, Value v) {
    if (isBool(v))
      return error(t, "'" + t.text +
                          "' needs a number here but gets a comparison");
    return v;
  }

  FailureOr<Value> constant(Location l, double value) {
    return Value(arith::ConstantOp::create(b, l, b.getF32FloatAttr(value)));
  }

  Value indexAsF32(Location l, Value index) {
    Value i64 = arith::IndexCastOp::create(b, l, b.getI64Type(), index);
    return arith::SIToFPOp::create(b, l, b.getF32Type(), i64);
  }

  FailureOr<Value> parseOr() {
    FailureOr<Value> lhs = parseAnd();
    while (succeeded(lhs) && peek().text == "||") {
      Token op = tokens[pos++];
      FailureOr<Value> rhs = parseAnd();
      if (failed(rhs))
        return failure();
      if (!isBool(*lhs) || !isBool(*rhs))
        return error(op, "'||' combines comparisons, not numbers");
      lhs = Value(arith::OrIOp::create(b, loc(op), *lhs, *rhs));
    }
    return lhs;
  }

  FailureOr<Value> parseAnd() {
    FailureOr<Value> lhs = parseCmp();
    while (succeeded(lhs) && peek().text == "&&") {
      Token op = tokens[pos++];
      FailureOr<Value> rhs = parseCmp();
      if (failed(rhs))
        return failure();
      if (!isBool(*lhs) || !isBool(*rhs))
        return error(op, "'&&' combines comparisons, not numbers");
      lhs = Value(arith::AndIOp::create(b, loc(op), *lhs, *rhs));
    }
    return lhs;
  }

  FailureOr<Value> parseCmp() {
    FailureOr<Value> lhs = parseAdd();
    if (failed(lhs) || peek().kind != TokenKind::Punct)
      return lhs;
    std::optional<arith::CmpFPredicate> pred =
        llvm::StringSwitch<std::optional<arith::CmpFPredicate>>(peek().text)
            .Case("<", arith::CmpFPredicate::OLT)
            .Case("<=", arith::CmpFPredicate::OLE)
            .Case(">", arith::CmpFPredicate::OGT)
            .Case(">=", arith::CmpFPredicate::OGE)
            .Case("==", arith::CmpFPredicate::OEQ)
            .Case("!=", arith::CmpFPredicate::UNE)
            .Default(std::nullopt);
    if (!pred)
      return lhs;
    Token op = tokens[pos++];
    FailureOr<Value> rhs = parseAdd();
    if (failed(rhs) || failed(number(op, *lhs)) || failed(number(op, *rhs)))
      return failure();
    return Value(arith::CmpFOp::create(b, loc(op), *pred, *lhs, *rhs));
  }

  FailureOr<Value> parseAdd() {
    FailureOr<Value> lhs = parseMul();
    while (succeeded(lhs) && (peek().text == "+" || peek().text == "-") &&
           peek().kind == TokenKind::Punct) {
      Token op = tokens[pos++];
      FailureOr<Value> rhs = parseMul();
      if (failed(rhs) || failed(number(op, *lhs)) || failed(number(op, *rhs)))
        return failure();
      if (op.text == "+")
        lhs = Value(arith::AddFOp::create(b, loc(op), *lhs, *rhs));
      else
        lhs = Value(arith::SubFOp::create(b, loc(op), *lhs, *rhs));
    }
    return lhs;
  }

  FailureOr<Value> parseMul() {
    FailureOr<Value> lhs = parseUnary();
    while (succeeded(lhs) && (peek().text == "*" || peek().text == "/") &&
           peek().kind == TokenKind::Punct) {
      Token op = tokens[pos++];
      FailureOr<Value> rhs = parseUnary();
      if (failed(rhs) || failed(number(op, *lhs)) || failed(number(op, *rhs)))
        return failure();
      if (op.text == "*")
        lhs = Value(arith::MulFOp::create(b, loc(op), *lhs, *rhs));
      else
        lhs = Value(arith::DivFOp::create(b, loc(op), *lhs, *rhs));
    }
    return lhs;
  }

  /// Parentheses, calls and unary operators nest at most this deep: the
  /// parser recurses once per level.
  static constexpr unsigned kMaxDepth = 256;

  FailureOr<Value> parseUnary() {
    // Every level of nesting passes here.
    struct Level {
      unsigned &depth;
      explicit Level(unsigned &depth) : depth(depth) { ++depth; }
      ~Level() { --depth; }
    } level(depth);
    if (depth > kMaxDepth)
      return error(peek(), "the expression nests deeper than " +
                               Twine(kMaxDepth) +
                               " levels of parentheses, calls and unary "
                               "operators");
    if (peek().kind == TokenKind::Punct && peek().text == "-") {
      Token op = tokens[pos++];
      FailureOr<Value> operand = parseUnary();
      if (failed(operand) || failed(number(op, *operand)))
        return failure();
      return Value(arith::NegFOp::create(b, loc(op), *operand));
    }
    if (peek().kind == TokenKind::Punct && peek().text == "!") {
      Token op = tokens[pos++];
      FailureOr<Value> operand = parseUnary();
      if (failed(operand))
        return failure();
      if (!isBool(*operand))
        return error(op, "'!' negates a comparison, not a number");
      Value one = arith::ConstantOp::create(b, loc(op), b.getBoolAttr(true));
      return Value(arith::XOrIOp::create(b, loc(op), *operand, one));
    }
    return parsePrimary();
  }

  FailureOr<Value> parsePrimary() {
    Token t = peek();
    switch (t.kind) {
    case TokenKind::End:
      return error(t, "expected a value but the expression ended");
    case TokenKind::Number: {
      ++pos;
      double value;
      if (t.text.getAsDouble(value))
        return error(t, "'" + t.text + "' is not a valid number");
      return constant(loc(t), value);
    }
    case TokenKind::Punct:
      if (consume("(")) {
        FailureOr<Value> inner = parseOr();
        if (failed(inner) || failed(expect(")")))
          return failure();
        return inner;
      }
      return error(t, "expected a value but found '" + t.text + "'");
    case TokenKind::Ident:
      ++pos;
      if (peek().text == "(" && peek().kind == TokenKind::Punct)
        return parseCall(t);
      return parseName(t);
    }
    llvm_unreachable("unknown token kind");
  }

  FailureOr<Value> parseName(const Token &t) {
    Location l = loc(t);
    if (t.text == "score")
      return env.score;
    if (t.text == "b")
      return indexAsF32(l, env.batch);
    if (t.text == "h")
      return indexAsF32(l, env.head);
    if (t.text == "q_idx")
      return indexAsF32(l, env.qIndex);
    if (t.text == "kv_idx")
      return indexAsF32(l, env.kvIndex);
    for (auto [name, value] : llvm::zip(env.paramNames, env.params)) {
      if (name != t.text)
        continue;
      if (!consume("["))
        return error(t, "per-head parameter '" + t.text + "' must be read as " +
                            t.text + "[h]");
      const Token &index = peek();
      if (index.kind != TokenKind::Ident || index.text != "h")
        return error(index, "per-head parameter '" + t.text +
                                "' is indexed by the head: write " + t.text +
                                "[h]");
      ++pos;
      if (failed(expect("]")))
        return failure();
      return value;
    }
    std::string known = "score, b, h, q_idx, kv_idx";
    SmallVector<StringRef> names = {
        "score", "b",   "h",   "q_idx", "kv_idx", "min",     "max",
        "abs",   "exp", "log", "sqrt",  "tanh",   "sigmoid", "where"};
    for (StringRef name : env.paramNames) {
      known += ", " + name.str() + "[h]";
      names.push_back(name);
    }
    return error(t, "unknown name '" + t.text + "'" +
                        spec::didYouMean(t.text, names) + "; expected one of " +
                        known +
                        " or a function (min, max, abs, exp, log, sqrt, "
                        "tanh, sigmoid, where)");
  }

  FailureOr<Value> parseCall(const Token &fn) {
    Location l = loc(fn);
    size_t arity =
        llvm::StringSwitch<size_t>(fn.text)
            .Cases({"abs", "exp", "log", "sqrt", "tanh", "sigmoid"}, 1)
            .Cases({"min", "max"}, 2)
            .Case("where", 3)
            .Default(0);
    if (arity == 0)
      return error(fn, "unknown function '" + fn.text + "'" +
                           spec::didYouMean(
                               fn.text, {"min", "max", "abs", "exp", "log",
                                         "sqrt", "tanh", "sigmoid", "where"}) +
                           "; expected min, max, abs, exp, log, sqrt, tanh, "
                           "sigmoid or where");
    (void)expect("(");
    SmallVector<Value, 3> args;
    do {
      FailureOr<Value> arg = parseOr();
      if (failed(arg))
        return failure();
      args.push_back(*arg);
    } while (consume(","));
    if (failed(expect(")")))
      return failure();
    if (args.size() != arity)
      return error(fn, llvm::formatv("'{0}' takes {1} argument(s), got {2}",
                                     fn.text, arity, args.size())
                           .str());
    if (fn.text == "where") {
      if (!isBool(args[0]))
        return error(fn, "the first argument of 'where' must be a comparison");
      if (failed(number(fn, args[1])) || failed(number(fn, args[2])))
        return failure();
      return Value(arith::SelectOp::create(b, l, args[0], args[1], args[2]));
    }
    for (Value arg : args)
      if (failed(number(fn, arg)))
        return failure();
    if (fn.text == "min")
      return Value(arith::MinimumFOp::create(b, l, args[0], args[1]));
    if (fn.text == "max")
      return Value(arith::MaximumFOp::create(b, l, args[0], args[1]));
    if (fn.text == "abs")
      return Value(math::AbsFOp::create(b, l, args[0]));
    if (fn.text == "exp")
      return Value(math::ExpOp::create(b, l, args[0]));
    if (fn.text == "log")
      return Value(math::LogOp::create(b, l, args[0]));
    if (fn.text == "sqrt")
      return Value(math::SqrtOp::create(b, l, args[0]));
    if (fn.text == "tanh")
      return Value(math::TanhOp::create(b, l, args[0]));
    // sigmoid(x) = 1 / (1 + exp(-x))
    Value one = arith::ConstantOp::create(b, l, b.getF32FloatAttr(1.0));
    Value neg = arith::NegFOp::create(b, l, args[0]);
    Value e = math::ExpOp::create(b, l, neg);
    Value denom = arith::AddFOp::create(b, l, one, e);
    return Value(arith::DivFOp::create(b, l, one, denom));
  }
};

} // namespace

FailureOr<Value> mlir::attn::buildScoreExpr(
    OpBuilder &builder, StringRef text, const ScoreExprEnv &env,
    function_ref<Location(size_t)> locAt, StringRef diagPrefix) {
  return ScoreExprParser(builder, text, env, locAt, diagPrefix).parse();
}
