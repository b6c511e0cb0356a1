from chinhhang.cli import main

main()
