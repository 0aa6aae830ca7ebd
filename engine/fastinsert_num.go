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
// type. Its DECIMAL to FLOAT/DOUBLE cast (TryCastDecimalToFloatingPoint)
// is not always correctly rounded: an unscaled value u that is exact in
// the target type (|u| <= 2^24 for FLOAT, 2^53 for DOUBLE), or a scale of
// 0, is divided by 10^scale in the target type; any other u is split into
// u / 10^scale and u % 10^scale (truncated), each converted on its own, and
// the target type computes quotient + remainder / 10^scale. The helpers
// compute the same operations for a DECIMAL of up to 18 digits (DuckDB
// holds it in an int64, whose conversion to FLOAT or DOUBLE rounds once)
// and for a wider one whose unscaled value is exact, and report ok=false
// for anything else, which takes the general path and DuckDB's own cast.

// maxDecimalDigits is DuckDB's widest DECIMAL literal; beyond it a literal
// with a decimal point is a DOUBLE.
const maxDecimalDigits = 38

// maxInt64Digits is the widest DECIMAL DuckDB holds in an int64.
const maxInt64Digits = 18

// pow10 holds the powers of ten that are exact doubles.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// intPow10 holds 10^0 … 10^18.
var intPow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

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

// literalFloat64 is the DOUBLE DuckDB stores for a numeric literal.
func literalFloat64(text string) (float64, bool) {
	if strings.ContainsAny(text, "eE") {
		v, err := strconv.ParseFloat(text, 64)
		return v, err == nil
	}
	u, n, ok := smallLiteral(text, 1<<53)
	if !ok {
		return 0, false
	}
	if u == 0 {
		return 0, true // -0 and -0.0 are the integer or decimal zero
	}
	var v float64
	if u <= 1<<53 || n.scale == 0 {
		v = float64(float64(int64(u)) / pow10[n.scale])
	} else {
		p := intPow10[n.scale]
		v = float64(float64(int64(u/p)) + float64(float64(int64(u%p))/pow10[n.scale]))
	}
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
	u, n, ok := smallLiteral(text, 1<<24)
	if !ok {
		return 0, false
	}
	if u == 0 {
		return 0, true
	}
	var v float32
	if u <= 1<<24 || n.scale == 0 {
		v = float32(float32(int64(u)) / float32(pow10[n.scale]))
	} else {
		p := intPow10[n.scale]
		v = float32(float32(int64(u/p)) + float32(float32(int64(u%p))/float32(pow10[n.scale])))
	}
	if n.neg {
		v = -v
	}
	return v, true
}

// smallLiteral splits a literal without exponent whose conversion the
// fast path computes as DuckDB does: an integer of at most 63 bits
// (INTEGER or BIGINT), a DECIMAL of at most 18 digits (an int64 in
// DuckDB), or a wider DECIMAL whose unscaled value is at most exact (the
// largest exact integer of the target type) with a scale below 23 (so
// that 10^scale is an exact double). u is the magnitude without the
// decimal point; the conversions are symmetric in the sign, so the caller
// negates the result.
func smallLiteral(text string, exact uint64) (u uint64, n plainNumber, ok bool) {
	n, ok = splitNumber(text)
	if !ok || (n.point && len(n.digits) > maxDecimalDigits) {
		return 0, n, false
	}
	u, err := strconv.ParseUint(n.digits, 10, 64)
	if err != nil || u > math.MaxInt64 {
		return 0, n, false
	}
	if n.point && len(n.digits) > maxInt64Digits && (u > exact || n.scale >= len(pow10)) {
		return 0, n, false
	}
	return u, n, true
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
