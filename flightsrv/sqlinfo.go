package flightsrv

import (
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
)

// sqlKeywords are the dialect's keywords beyond SQL:2003 (JDBC's
// getSQLKeywords; DBeaver highlights them).
var sqlKeywords = []string{
	"NAMESPACE", "NAMESPACES", "SHARED", "STREAM", "STORAGE", "FLUSH", "COMPACT", "KILL", "JOB",
	"SUBSCRIBE", "EXECUTE", "TTL_SECONDS", "ACCESS", "LEVEL", "QUALIFY", "EXCLUDE", "PIVOT", "UNPIVOT",
	"ASOF", "POSITIONAL", "SUMMARIZE", "DESCRIBE", "SHOW", "STATS", "RETURNING", "USE",
}

// registerSQLInfo registers the full SqlInfo set with the exact value types
// clients decode (ADBC reads the transaction support as an int32; JDBC and
// DBeaver fail on missing keys).
func (s *Server) registerSQLInfo() {
	info := map[flightsql.SqlInfo]any{
		flightsql.SqlInfoFlightSqlServerName:                                 "KalamDB",
		flightsql.SqlInfoFlightSqlServerVersion:                              Version,
		flightsql.SqlInfoFlightSqlServerArrowVersion:                         "18.8.0",
		flightsql.SqlInfoFlightSqlServerReadOnly:                             false,
		flightsql.SqlInfoFlightSqlServerSql:                                  true,
		flightsql.SqlInfoFlightSqlServerSubstrait:                            false,
		flightsql.SqlInfoFlightSqlServerTransaction:                          int32(flightsql.SqlTransactionTransaction),
		flightsql.SqlInfoFlightSqlServerCancel:                               false,
		flightsql.SqlInfoFlightSqlServerStatementTimeout:                     int32(0),
		flightsql.SqlInfoFlightSqlServerTransactionTimeout:                   int32(min(s.opts.TxIdleTimeout/time.Millisecond, math.MaxInt32)),
		flightsql.SqlInfoFlightSqlServerBulkIngestion:                        false,
		flightsql.SqlInfoFlightSqlServerIngestTransactionsSupported:          false,
		flightsql.SqlInfoDDLCatalog:                                          false,
		flightsql.SqlInfoDDLSchema:                                           true,
		flightsql.SqlInfoDDLTable:                                            true,
		flightsql.SqlInfoIdentifierCase:                                      int64(2), // case-insensitive
		flightsql.SqlInfoIdentifierQuoteChar:                                 `"`,
		flightsql.SqlInfoQuotedIdentifierCase:                                int64(1), // case-sensitive
		flightsql.SqlInfoAllTablesAreASelectable:                             true,
		flightsql.SqlInfoNullOrdering:                                        int64(2), // nulls sorted at end
		flightsql.SqlInfoKeywords:                                            sqlKeywords,
		flightsql.SqlInfoNumericFunctions:                                    []string{"ABS", "CEIL", "FLOOR", "ROUND", "SQRT", "POWER", "LN", "LOG10", "EXP", "MOD", "SIGN", "PI", "RANDOM"},
		flightsql.SqlInfoStringFunctions:                                     []string{"LENGTH", "LOWER", "UPPER", "SUBSTRING", "TRIM", "LTRIM", "RTRIM", "REPLACE", "CONCAT", "LEFT", "RIGHT", "POSITION", "REGEXP_MATCHES"},
		flightsql.SqlInfoSystemFunctions:                                     []string{"CURRENT_USER"},
		flightsql.SqlInfoDateTimeFunctions:                                   []string{"NOW", "CURRENT_DATE", "CURRENT_TIMESTAMP", "DATE_TRUNC", "DATE_PART", "EXTRACT", "STRFTIME", "STRPTIME"},
		flightsql.SqlInfoSearchStringEscape:                                  `\`,
		flightsql.SqlInfoExtraNameChars:                                      "",
		flightsql.SqlInfoSupportsColumnAliasing:                              true,
		flightsql.SqlInfoNullPlusNullIsNull:                                  true,
		flightsql.SqlInfoSupportsConvert:                                     map[int32][]int32{},
		flightsql.SqlInfoSupportsTableCorrelationNames:                       true,
		flightsql.SqlInfoSupportsDifferentTableCorrelationNames:              false,
		flightsql.SqlInfoSupportsExpressionsInOrderBy:                        true,
		flightsql.SqlInfoSupportsOrderByUnrelated:                            true,
		flightsql.SqlInfoSupportedGroupBy:                                    int32(3), // unrelated | beyond select
		flightsql.SqlInfoSupportsLikeEscapeClause:                            true,
		flightsql.SqlInfoSupportsNonNullableColumns:                          true,
		flightsql.SqlInfoSupportedGrammar:                                    int32(3), // minimum | core
		flightsql.SqlInfoANSI92SupportedLevel:                                int32(3), // entry | intermediate
		flightsql.SqlInfoSupportsIntegrityEnhancementFacility:                false,
		flightsql.SqlInfoOuterJoinsSupportLevel:                              int32(2), // full outer joins
		flightsql.SqlInfoSchemaTerm:                                          "namespace",
		flightsql.SqlInfoProcedureTerm:                                       "procedure",
		flightsql.SqlInfoCatalogTerm:                                         "catalog",
		flightsql.SqlInfoCatalogAtStart:                                      true,
		flightsql.SqlInfoSchemasSupportedActions:                             int32(1), // in data manipulation
		flightsql.SqlInfoCatalogsSupportedActions:                            int32(0),
		flightsql.SqlInfoSupportedPositionedCommands:                         int32(0),
		flightsql.SqlInfoSelectForUpdateSupported:                            false,
		flightsql.SqlInfoStoredProceduresSupported:                           false,
		flightsql.SqlInfoSupportedSubqueries:                                 int32(15), // comparisons | exists | in | quantified
		flightsql.SqlInfoCorrelatedSubqueriesSupported:                       true,
		flightsql.SqlInfoSupportedUnions:                                     int32(3), // union | union all
		flightsql.SqlInfoMaxBinaryLiteralLen:                                 int64(0),
		flightsql.SqlInfoMaxCharLiteralLen:                                   int64(0),
		flightsql.SqlInfoMaxColumnNameLen:                                    int64(64),
		flightsql.SqlInfoMaxColumnsInGroupBy:                                 int64(0),
		flightsql.SqlInfoMaxColumnsInIndex:                                   int64(0),
		flightsql.SqlInfoMaxColumnsInOrderBy:                                 int64(0),
		flightsql.SqlInfoMaxColumnsInSelect:                                  int64(0),
		flightsql.SqlInfoMaxColumnsInTable:                                   int64(0),
		flightsql.SqlInfoMaxConnections:                                      int64(0),
		flightsql.SqlInfoMaxCursorNameLen:                                    int64(0),
		flightsql.SqlInfoMaxIndexLen:                                         int64(0),
		flightsql.SqlInfoDBSchemaNameLen:                                     int64(64),
		flightsql.SqlInfoMaxProcedureNameLen:                                 int64(0),
		flightsql.SqlInfoMaxCatalogNameLen:                                   int64(64),
		flightsql.SqlInfoMaxRowSize:                                          int64(0),
		flightsql.SqlInfoMaxRowSizeIncludesBlobs:                             false,
		flightsql.SqlInfoMaxStatementLen:                                     int64(1 << 20),
		flightsql.SqlInfoMaxStatements:                                       int64(0),
		flightsql.SqlInfoMaxTableNameLen:                                     int64(64),
		flightsql.SqlInfoMaxTablesInSelect:                                   int64(0),
		flightsql.SqlInfoMaxUsernameLen:                                      int64(64),
		flightsql.SqlInfoDefaultTransactionIsolation:                         int64(3), // REPEATABLE_READ: snapshot isolation (README, Transactions)
		flightsql.SqlInfoTransactionsSupported:                               true,
		flightsql.SqlInfoSupportedTransactionsIsolationlevels:                int32(1<<2 | 1<<3), // READ_COMMITTED (served as snapshot isolation), REPEATABLE_READ
		flightsql.SqlInfoDataDefinitionCausesTransactionCommit:               false,
		flightsql.SqlInfoDataDefinitionsInTransactionsIgnored:                false,
		flightsql.SqlInfoSupportedResultSetTypes:                             int32(2), // forward only
		flightsql.SqlInfoSupportedConcurrenciesForResultSetUnspecified:       int32(0),
		flightsql.SqlInfoSupportedConcurrenciesForResultSetForwardOnly:       int32(1), // read only
		flightsql.SqlInfoSupportedConcurrenciesForResultSetScrollSensitive:   int32(0),
		flightsql.SqlInfoSupportedConcurrenciesForResultSetScrollInsensitive: int32(0),
		flightsql.SqlInfoBatchUpdatesSupported:                               false,
		flightsql.SqlInfoSavePointsSupported:                                 false,
		flightsql.SqlInfoNamedParametersSupported:                            false,
		flightsql.SqlInfoLocatorsUpdateCopy:                                  false,
		flightsql.SqlInfoStoredFunctionsUsingCallSyntaxSupported:             false,
	}
	for k, v := range info {
		if err := s.RegisterSqlInfo(k, v); err != nil {
			panic(err) // a type this package chose is not accepted: a programmer error
		}
	}
}
