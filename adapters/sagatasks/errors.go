package sagatasks

// The business failures of the saga's steps, one Go type each, named as
// purchase.asl.json's Retry and Catch fields name them. A type per name,
// and not one type with a name field, because aws-lambda-go reports a
// function's error to Step Functions under its Go type's name: an
// *OutOfStock returned by a Lambda handler arrives as errorType
// "OutOfStock" and the Catch matches it. The local executor reads the
// same name from ErrorName (asl.Named). Return them unwrapped.

// OutOfStock: a product of the order is short or no longer sold.
type OutOfStock struct{ Cause string }

// InsufficientPoints: the buyer has fewer points than the order uses.
type InsufficientPoints struct{ Cause string }

// InsufficientFunds: the wallet holds less than the order costs.
type InsufficientFunds struct{ Cause string }

// OrderClosed: the order was compensated before this step ran.
type OrderClosed struct{ Cause string }

// ReservationExpired: the stock held for the order went back before it
// completed.
type ReservationExpired struct{ Cause string }

// BadInput: the task's input is not a step's input.
type BadInput struct{ Cause string }

func (e *OutOfStock) Error() string         { return e.Cause }
func (e *InsufficientPoints) Error() string { return e.Cause }
func (e *InsufficientFunds) Error() string  { return e.Cause }
func (e *OrderClosed) Error() string        { return e.Cause }
func (e *ReservationExpired) Error() string { return e.Cause }
func (e *BadInput) Error() string           { return e.Cause }

func (*OutOfStock) ErrorName() string         { return "OutOfStock" }
func (*InsufficientPoints) ErrorName() string { return "InsufficientPoints" }
func (*InsufficientFunds) ErrorName() string  { return "InsufficientFunds" }
func (*OrderClosed) ErrorName() string        { return "OrderClosed" }
func (*ReservationExpired) ErrorName() string { return "ReservationExpired" }
func (*BadInput) ErrorName() string           { return "BadInput" }
