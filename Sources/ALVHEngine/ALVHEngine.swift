/// ALVHEngine: market data, pricing, Greeks, the book, indicators, ALVH rules, stress.
public enum ALVHEngine {}
