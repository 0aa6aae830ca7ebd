package engine

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// The numeric conversions of the literal fast path compute the value
// DuckDB's INSERT stores, not the nearest one: DuckDB types a literal with
// a decimal point as DECIMAL(digits, fraction digits) (DOUBLE beyond 38
// digits), one with an exponent as DOUBLE (parsed correctly rounded) and
// an integer as INTEGER, BIGINT or HUGEINT, then casts it to the column's
// type. Its DECIMAL to FLOAT/DOUBLE cast divides the unscaled value by
// 10^scale in the target type, which is not always correctly rounded once
// the unscaled value is not exact in that type. Each helper reports ok only
// where it computes the same operations on exact operands; anything else
// takes the general path and DuckDB's own cast.

// maxDecimalDigits is DuckDB's widest DECIMAL literal; beyond it a literal
// with a decimal point is a DOUBLE.
const maxDecimalDigits = 38

// pow10 holds the powers of ten that are exact doubles.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// plainNumber is a numeric literal without exponent: its sign, its digits
// without the decimal point, and the number of digits after the point
// (scale); point says whether it has one.
type plainNumber struct {
	neg    bool
	digits string
	scale  int
	point  bool
}

// splitNumber splits a literal as the lexer gives it (an optional '-', then
// digits with at most one '.'); ok is false for an exponent or anything
// else.
func splitNumber(text string) (n plainNumber, ok bool) {
	if strings.HasPrefix(text, "-") {
		n.neg, text = true, text[1:]
	}
	intPart, frac, point := strings.Cut(text, ".")
	n.digits, n.scale, n.point = intPart+frac, len(frac), point
	if n.digits == "" {
		return n, false
	}
	for i := 0; i < len(n.digits); i++ {
		if n.digits[i] < '0' || n.digits[i] > '9' {
			return n, false
		}
	}
	return n, true
}

// unscaled returns the literal's digits as an integer when it is at most
// limit (and the literal is not a DOUBLE for DuckDB).
func (n plainNumber) unscaled(limit uint64) (uint64, bool) {
	if n.point && len(n.digits) > maxDecimalDigits {
		return 0, false
	}
	u, err := strconv.ParseUint(n.digits, 10, 64)
	if err != nil || u > limit {
		return 0, false
	}
	return u, true
}

// literalFloat64 is the DOUBLE DuckDB stores for a numeric literal.
func literalFloat64(text string) (float64, bool) {
	if strings.ContainsAny(text, "eE") {
		v, err := strconv.ParseFloat(text, 64)
		return v, err == nil
	}
	n, ok := splitNumber(text)
	if !ok || n.scale >= len(pow10) {
		return 0, false
	}
	u, ok := n.unscaled(1 << 53)
	if !ok {
		return 0, false
	}
	if u == 0 {
		return 0, true // -0 and -0.0 are the integer or decimal zero
	}
	v := float64(u) / pow10[n.scale]
	if n.neg {
		v = -v
	}
	return v, true
}

// literalFloat32 is the FLOAT DuckDB stores for a numeric literal.
func literalFloat32(text string) (float32, bool) {
	if strings.ContainsAny(text, "eE") {
		// A DOUBLE, then cast to FLOAT (which DuckDB refuses out of range).
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.Abs(v) > 3e38 {
			return 0, false
		}
		return float32(v), true
	}
	n, ok := splitNumber(text)
	if !ok {
		return 0, false
	}
	limit, maxScale := uint64(1<<24), 10 // the unscaled value and 10^scale are exact floats
	if !n.point {
		limit, maxScale = 1<<53, 0 // an integer: exact as a double, rounded once
	}
	u, ok := n.unscaled(limit)
	if !ok || n.scale > maxScale {
		return 0, false
	}
	if u == 0 {
		return 0, true
	}
	var v float32
	if n.point {
		v = float32(float32(u) / float32(pow10[n.scale]))
	} else {
		v = float32(float64(u))
	}
	if n.neg {
		v = -v
	}
	return v, true
}

// literalDecimal is the DECIMAL(prec, scale) value of a numeric literal
// that converts exactly (no rounding, within the precision); DuckDB rounds
// or refuses the others.
func literalDecimal(text string, prec, scale int32) (decimal128.Num, bool) {
	n, ok := splitNumber(text)
	if !ok || (n.point && len(n.digits) > maxDecimalDigits) || n.scale > int(scale) {
		return decimal128.Num{}, false
	}
	v, ok := new(big.Int).SetString(n.digits, 10)
	if !ok {
		return decimal128.Num{}, false
	}
	ten := big.NewInt(10)
	v.Mul(v, new(big.Int).Exp(ten, big.NewInt(int64(int(scale)-n.scale)), nil))
	if v.Cmp(new(big.Int).Exp(ten, big.NewInt(int64(prec)), nil)) >= 0 {
		return decimal128.Num{}, false
	}
	if n.neg {
		v.Neg(v)
	}
	return decimal128.FromBigInt(v), true
}
